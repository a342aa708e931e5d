// Issue 12's sky workloads: a point's HTM level-20 index and its nested HEALPix order-20 pixel
// (per point, over 1000 points an iteration), the HTM11 and HEALPix-11 envelopes of a 0.1° circle, and the
// spatial join of 10⁶ detector regions against one patch on SQLite — next to its limit, the
// coarse join's rows read by one raw sqlite3 statement (the same overlap tables and indexes,
// no decoding, no exact test). lsst-sphgeom and hpgeom do the first three in daf_butler's
// environment in the same run (Benchmarks/daf_butler_bench.py).
//
// The repository is made once in /tmp/butler-bench-sky-v1 and reused: 5000 visits × 200
// detectors of 0.2° squares tiling the sky between ±60° declination, a skymap of 0.2° patches.
import Benchmark
import Butler
import Composites
import Foundation
import GRDBSQLite
import Sky

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 20, maxDuration: .seconds(2), maxIterations: 5000)
    let points = SkyRepos.points
    Benchmark("point → HTM20, 1000 points") { benchmark in
        let htm = try HTMPixelization(level: 20)
        for _ in benchmark.scaledIterations {
            var sum: UInt64 = 0
            for point in points { sum &+= htm.index(of: point.vector) }
            blackHole(sum)
        }
    }
    Benchmark("point → HEALPix nested order 20, 1000 points") { benchmark in
        let healpix = try HEALPixNested(order: 20)
        for _ in benchmark.scaledIterations {
            var sum: Int64 = 0
            for point in points { sum &+= try healpix.pixel(lonDegrees: point.lon, latDegrees: point.lat) }
            blackHole(sum)
        }
    }
    Benchmark("HTM11 envelope of a 0.1° circle") { benchmark in
        let htm = try HTMPixelization(level: 11)
        for index in benchmark.scaledIterations {
            let point = points[index % points.count]
            let circle = Region.circle(try Circle(center: point.vector, openingAngle: 0.1 * .pi / 180))
            blackHole(htm.envelope(circle))
        }
    }
    Benchmark("HEALPix order 11 envelope of a 0.1° circle") { benchmark in
        let healpix = try HEALPixNested(order: 11)
        for index in benchmark.scaledIterations {
            let point = points[index % points.count]
            let circle = Region.circle(try Circle(center: point.vector, openingAngle: 0.1 * .pi / 180))
            blackHole(try healpix.envelope(circle))
        }
    }
    let setup: @Sendable () async throws -> Void = { try await SkyRepos.shared.prepare() }
    let join = Benchmark.Configuration(
        timeUnits: .microseconds, warmupIterations: 3, maxDuration: .seconds(5), maxIterations: 200, setup: setup)
    Benchmark("spatial join: 10⁶ detector regions × one patch (sqlite)", configuration: join) { benchmark in
        let butler = SkyRepos.shared.butler!
        for index in benchmark.scaledIterations {
            let patch = SkyRepos.patchIds[index % SkyRepos.patchIds.count]
            let found = try await butler.queryDataIds(
                ["visit", "detector"], where: "skymap = 's' AND tract = 0 AND patch = \(patch)")
            precondition(!found.isEmpty, "patch \(patch) overlaps nothing")
        }
    }
    Benchmark("limit spatial join: the coarse join's rows (raw sqlite3)", configuration: join) { benchmark in
        let limit = SkyRepos.shared.limit!
        for index in benchmark.scaledIterations {
            let rows = try limit.coarseJoin(patch: SkyRepos.patchIds[index % SkyRepos.patchIds.count])
            precondition(rows > 0)
        }
    }
}

/// Seeded points, uniform on the sphere.
struct SkyPoint: Sendable {
    let lon: Double
    let lat: Double
    let vector: UnitVector3d
}

final class SkyRepos: @unchecked Sendable {
    // The runner calls setup and measured closures one at a time; properties are written only
    // in `prepare`.
    static let shared = SkyRepos()
    static let visits = 5000
    static let detectors = 200
    static let points: [SkyPoint] = {
        var state: UInt64 = 12
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        return (0..<1000).map { _ in
            let lon = next() * 360, lat = asin(next() * 2 - 1) * 180 / .pi
            return SkyPoint(lon: lon, lat: lat, vector: UnitVector3d(try! LonLat(lonDegrees: lon, latDegrees: lat)))
        }
    }()
    /// Patches 0.2° square along the equator at RA 10°–30°: each overlaps a few detectors.
    static let patchIds = Array(0..<100)
    let directory = URL(fileURLWithPath: "/tmp/butler-bench-sky-v1")
    private(set) var butler: Butler?
    private(set) var limit: RawSkyLimit?

    /// A visit's pointing: a 14° × 2.8° band per visit row… simply a grid over the sky.
    static func detectorCentre(visit: Int, detector: Int) -> (ra: Double, dec: Double) {
        // 1000 visit columns × 5 visit rows of 20 × 10 detectors of 0.2° (with 0.02° overlap).
        let column = visit % 1000, row = visit / 1000
        let ra = (Double(column) * 0.36 + Double(detector % 2) * 0.18).truncatingRemainder(dividingBy: 360)
        let dec = -60 + Double(row) * 24 + Double(detector / 2) * 0.24
        return (ra + 0.09, dec + 0.1)
    }

    static func square(_ ra: Double, _ dec: Double, _ size: Double) throws -> Region {
        .polygon(
            try ConvexPolygon(hullOfDegrees: [
                (ra - size / 2, dec - size / 2), (ra + size / 2, dec - size / 2), (ra + size / 2, dec + size / 2),
                (ra - size / 2, dec + size / 2),
            ]))
    }

    func prepare() async throws {
        if butler != nil { return }
        let root = directory.appendingPathComponent("repo")
        if !(await opens(root)) { try await build(root) }
        butler = try await Butler(repository: root, writeable: false)
        limit = try RawSkyLimit(database: root.appendingPathComponent("gen3.sqlite3").path)
    }

    private func opens(_ root: URL) async -> Bool {
        guard let butler = try? await Butler(repository: root, writeable: false) else { return false }
        defer { Task { try? await butler.close() } }
        return (try? await butler.queryDataIds(["visit"], where: "visit = \(Self.visits - 1)").count) == 1
    }

    private func build(_ root: URL) async throws {
        try? FileManager.default.removeItem(at: root)
        try await Butler.createRepository(at: root, config: .defaultConfig())
        let butler = try await Butler(repository: root)
        try await butler.insertDimensionRecords("instrument", [["name": "Cam", "detector_max": 200, "visit_max": 10000]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20260101]])
        try await butler.insertDimensionRecords("detector", (0..<Self.detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        try await butler.insertDimensionRecords("skymap", [["name": "s", "hash": "00"]])
        try await butler.insertDimensionRecords("tract", [["skymap": "s", "id": 0, "region": .string(try Self.square(20, 0, 21).base64)]])
        try await butler.insertDimensionRecords(
            "patch",
            try Self.patchIds.map { patch in
                [
                    "skymap": "s", "tract": 0, "id": .int(Int64(patch)),
                    "region": .string(try Self.square(10.1 + 0.2 * Double(patch), 0.1, 0.2).base64),
                ]
            })
        for chunk in stride(from: 0, to: Self.visits, by: 50) {
            let visits = chunk..<min(Self.visits, chunk + 50)
            try await butler.insertDimensionRecords(
                "visit",
                visits.map {
                    [
                        "instrument": "Cam", "id": .int(Int64($0)), "name": .string("v\($0)"), "physical_filter": "Cam-r",
                        "day_obs": 20260101,
                    ]
                })
            try await butler.insertDimensionRecords(
                "visit_detector_region",
                try visits.flatMap { visit in
                    try (0..<Self.detectors).map { detector in
                        let (ra, dec) = Self.detectorCentre(visit: visit, detector: detector)
                        return [
                            "instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector)),
                            "region": .string(try Self.square(ra, dec, 0.2).base64),
                        ]
                    }
                })
        }
        try await butler.close()
    }
}

/// The limit: the coarse half of the spatial join (overlap tables sharing an htm7 pixel), by
/// one raw sqlite3 statement, rows stepped through without decoding regions.
final class RawSkyLimit: @unchecked Sendable {
    private var database: OpaquePointer?
    private var statement: OpaquePointer?

    init(database path: String) throws {
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { throw CocoaError(.fileReadUnknown) }
        let sql = """
            SELECT DISTINCT v.instrument, v.visit, v.detector, v.region
            FROM dim_patch_overlap p JOIN dim_visit_detector_region_overlap o ON o.skypix_index = p.skypix_index
            JOIN dim_visit_detector_region v ON v.instrument = o.instrument AND v.visit = o.visit AND v.detector = o.detector
            WHERE p.skymap = 's' AND p.tract = 0 AND p.id = ?
            """
        guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else {
            throw NSError(domain: "sqlite", code: 1, userInfo: [NSLocalizedDescriptionKey: String(cString: sqlite3_errmsg(database))])
        }
    }

    func coarseJoin(patch: Int) throws -> Int {
        sqlite3_reset(statement)
        sqlite3_bind_int64(statement, 1, Int64(patch))
        var rows = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            blackHole(sqlite3_column_text(statement, 3))
            rows += 1
        }
        return rows
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(database)
    }
}

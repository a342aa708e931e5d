// Issue 13's skymap workloads: registering HSC's rings skymap (18,938 tracts, 1,533,978 patches
// with regions and htm7 overlaps) into a new SQLite repository, next to its limit — the same
// rows written by raw sqlite3, computed beforehand — and 200 HSC-sized tracts (16,200 patches),
// which daf_butler's side of the run inserts as records too; findTract per point next to the same
// ring arithmetic in C; packing 10⁷ visit × detector data IDs as arrays next to a bare C loop
// (goal ≥ 50 M/s), which daf_butler's side does one ID at a time with lsst.pipe.base's packer.
import BareIO
import Benchmark
import Butler
import Composites
import Foundation
import GRDBSQLite
import Sky
import SkyMaps

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 20, maxDuration: .seconds(2), maxIterations: 5000)
    let hsc = try! SkyMap(.hscRings)
    let points = SkyMapWorkloads.points
    Benchmark("findTract (HSC rings), 1000 points") { benchmark in
        for _ in benchmark.scaledIterations {
            var sum = 0
            for point in points { sum &+= hsc.findTractID(point) }
            blackHole(sum)
        }
    }
    Benchmark("limit findTract: the ring arithmetic in C, 1000 points") { benchmark in
        let lons = points.map(\.lon), lats = points.map(\.lat)
        let counts = hsc.ringTractCounts
        var starts = [0]
        for count in counts { starts.append(starts.last! + count) }
        var ids = [Int](repeating: 0, count: points.count)
        benchmark.startMeasurement()
        defer { benchmark.stopMeasurement() }
        for _ in benchmark.scaledIterations {
            bare_rings_find_tract(
                lons, lats, lons.count, Int32(counts.count), hsc.ringSize, 0, counts, starts, hsc.tractCount, 1, &ids)
            blackHole(ids[7])
        }
    }
    let packing = Benchmark.Configuration(warmupIterations: 2, maxDuration: .seconds(5), maxIterations: 50)
    Benchmark("pack 10⁷ visit × detector IDs (arrays)", configuration: packing) { benchmark in
        let packer = try ObservationDimensionPacker(
            instrument: "HSC", observation: .visit, detectorCount: 200, observationCount: 21_474_800)
        let (visits, detectors) = SkyMapWorkloads.observations
        var packed = [Int64](repeating: 0, count: visits.count)
        // Inputs and output exist before the clock starts, as for the C loop.
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try visits.withUnsafeBufferPointer { v in
                try detectors.withUnsafeBufferPointer { d in
                    try packed.withUnsafeMutableBufferPointer { try packer.pack(observations: v, detectors: d, into: $0) }
                }
            }
            blackHole(packed[12345])
        }
        benchmark.stopMeasurement()
    }
    Benchmark("limit pack: bare C loop over 10⁷ IDs", configuration: packing) { benchmark in
        let (visits, detectors) = SkyMapWorkloads.observationsAsInt
        var packed = [Int](repeating: 0, count: visits.count)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            bare_pack_ids(visits, detectors, visits.count, 200, &packed)
            blackHole(packed[12345])
        }
        benchmark.stopMeasurement()
    }
    let field = try! SkyMap(SkyMapWorkloads.field)
    let small = Benchmark.Configuration(warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 5)
    Benchmark("register 200 HSC-sized tracts (16,200 patches, sqlite)", configuration: small) { benchmark in
        try await SkyMapWorkloads.measureRegistration(benchmark, "field", field)
    }
    let whole = Benchmark.Configuration(warmupIterations: 0, maxDuration: .seconds(1), maxIterations: 1)
    Benchmark("register HSC rings skymap (18,938 tracts, 1,533,978 patches, sqlite)", configuration: whole) { benchmark in
        try await SkyMapWorkloads.measureRegistration(benchmark, "hsc_rings_v1", hsc)
    }
    Benchmark("limit register HSC: the same rows by raw sqlite3", configuration: whole) { benchmark in
        let rows = try SkyMapRows(hsc)
        for _ in benchmark.scaledIterations {
            let root = try await SkyMapWorkloads.newRepository()
            benchmark.startMeasurement()
            try rows.write(into: root.appendingPathComponent("gen3.sqlite3").path)
            benchmark.stopMeasurement()
            try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
        }
    }
}

enum SkyMapWorkloads {
    /// Seeded points, uniform on the sphere.
    static let points: [LonLat] = {
        var random = SplitMix(state: 12)
        return (0..<1000).map { _ in
            try! LonLat(lonRadians: random.unit() * 2 * .pi, latRadians: asin(random.unit() * 2 - 1))
        }
    }()

    /// 10⁷ HSC-like (visit, detector) pairs.
    static let observations: ([Int64], [Int64]) = {
        var random = SplitMix(state: 13)
        var visits: [Int64] = [], detectors: [Int64] = []
        visits.reserveCapacity(10_000_000)
        detectors.reserveCapacity(10_000_000)
        for _ in 0..<10_000_000 {
            visits.append(Int64(random.unit() * 21_474_800))
            detectors.append(Int64(random.unit() * 200))
        }
        return (visits, detectors)
    }()

    /// The same pairs as C `long`s, for the bare loop.
    static let observationsAsInt: ([Int], [Int]) = (observations.0.map(Int.init), observations.1.map(Int.init))

    /// 200 tracts of HSC's size, pixel scale and overlap on a 20 × 10 grid (9 × 9 patches each).
    static let field: SkyMapConfiguration = {
        var centres: [(ra: Double, dec: Double, radius: Double)] = []
        for index in 0..<200 {
            let ra: Double = 10 + 1.5 * Double(index % 20)
            let dec: Double = -10 + 1.5 * Double(index / 20)
            centres.append((ra, dec, 0.7438))
        }
        return .discrete(tracts: centres, projection: .gnomonic, pixelScale: 0.168, tractOverlap: 1.0 / 60)
    }()

    /// Registers `skymap` into a new repository per iteration, the clock running from opening
    /// the Butler to closing it.
    static func measureRegistration(_ benchmark: Benchmark, _ name: String, _ skymap: SkyMap) async throws {
        for _ in benchmark.scaledIterations {
            let root = try await newRepository()
            benchmark.startMeasurement()
            let butler = try await Butler(repository: root)
            blackHole(try await butler.registerSkyMap(name, skymap))
            try await butler.close()
            benchmark.stopMeasurement()
            try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
        }
    }

    /// A new embedded repository; the caller removes its parent directory.
    static func newRepository() async throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("butler-bench-skymap-\(UUID().uuidString)/repo")
        try await Butler.createRepository(at: root, config: .defaultConfig())
        return root
    }
}

struct SplitMix {
    var state: UInt64
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}

/// A skymap's registry rows computed up front (regions encoded, htm7 envelopes expanded), and
/// written by prepared raw sqlite3 inserts in one transaction: what registration costs with no
/// geometry and no Butler in the way.
final class SkyMapRows: @unchecked Sendable {
    let hash: String
    let tractCount: Int
    var tractRegions: [String] = []
    var patches: [(tract: Int32, id: Int32, x: Int32, y: Int32, region: String)] = []
    var tractOverlaps: [(tract: Int32, pixel: Int64)] = []
    var patchOverlaps: [(tract: Int32, patch: Int32, pixel: Int64)] = []

    init(_ skymap: SkyMap) throws {
        hash = skymap.hash
        tractCount = skymap.tractCount
        let htm = try HTMPixelization(level: 7)
        for id in 0..<skymap.tractCount {
            let tract = try skymap.tract(id)
            let region = try tract.outerRegion
            tractRegions.append(region.base64)
            for range in htm.envelope(region).ranges { for pixel in range.0..<range.1 { tractOverlaps.append((Int32(id), Int64(pixel))) } }
            for patch in tract.patches {
                let patchRegion = try patch.outerRegion
                patches.append((Int32(id), Int32(patch.sequentialIndex), Int32(patch.x), Int32(patch.y), patchRegion.base64))
                for range in htm.envelope(patchRegion).ranges {
                    for pixel in range.0..<range.1 { patchOverlaps.append((Int32(id), Int32(patch.sequentialIndex), Int64(pixel))) }
                }
            }
        }
    }

    func write(into path: String) throws {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw CocoaError(.fileWriteUnknown) }
        defer { sqlite3_close(database) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
                throw NSError(domain: "sqlite", code: 1, userInfo: [NSLocalizedDescriptionKey: String(cString: sqlite3_errmsg(database))])
            }
        }
        func prepare(_ sql: String) throws -> OpaquePointer? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else {
                throw NSError(domain: "sqlite", code: 1, userInfo: [NSLocalizedDescriptionKey: String(cString: sqlite3_errmsg(database))])
            }
            return statement
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        /// One prepared statement stepped once per row, `bind` setting its values.
        func insertEach<Row>(_ sql: String, _ rows: [Row], bind: (OpaquePointer?, Row) -> Void) throws {
            let statement = try prepare(sql)
            defer { sqlite3_finalize(statement) }
            for row in rows {
                bind(statement, row)
                guard sqlite3_step(statement) == SQLITE_DONE else { throw CocoaError(.fileWriteUnknown) }
                sqlite3_reset(statement)
            }
        }
        try exec("BEGIN IMMEDIATE")
        try exec(
            "INSERT INTO dim_skymap (name, hash, tract_max, patch_nx_max, patch_ny_max) VALUES ('hsc_rings_v1', '\(hash)', \(tractCount), 9, 9)"
        )
        try insertEach("INSERT INTO dim_tract (skymap, id, region) VALUES ('hsc_rings_v1', ?, ?)", Array(tractRegions.enumerated())) {
            sqlite3_bind_int64($0, 1, Int64($1.offset))
            sqlite3_bind_text($0, 2, $1.element, -1, transient)
        }
        try insertEach("INSERT INTO dim_patch (skymap, tract, id, cell_x, cell_y, region) VALUES ('hsc_rings_v1', ?, ?, ?, ?, ?)", patches)
        {
            sqlite3_bind_int64($0, 1, Int64($1.tract))
            sqlite3_bind_int64($0, 2, Int64($1.id))
            sqlite3_bind_int64($0, 3, Int64($1.x))
            sqlite3_bind_int64($0, 4, Int64($1.y))
            sqlite3_bind_text($0, 5, $1.region, -1, transient)
        }
        try insertEach("INSERT INTO dim_tract_overlap (skymap, id, skypix_index) VALUES ('hsc_rings_v1', ?, ?)", tractOverlaps) {
            sqlite3_bind_int64($0, 1, Int64($1.tract))
            sqlite3_bind_int64($0, 2, $1.pixel)
        }
        try insertEach("INSERT INTO dim_patch_overlap (skymap, tract, id, skypix_index) VALUES ('hsc_rings_v1', ?, ?, ?)", patchOverlaps) {
            sqlite3_bind_int64($0, 1, Int64($1.tract))
            sqlite3_bind_int64($0, 2, Int64($1.patch))
            sqlite3_bind_int64($0, 3, $1.pixel)
        }
        try exec("COMMIT")
    }
}

// Issue 11's discovery workloads on SQLite: a single calibration look-up by an exposure's
// time, the temporal join of 10⁵ exposures × 10 detectors with their biases, and a query on a
// dataset field over 10⁶ datasets next to the same-sized query on a dimension — each with its
// limit (the same rows through one raw sqlite3 statement) measured in the same run.
//
// The repositories are made once in /tmp/butler-bench-discovery-v2 and reused: exposures and
// certifications through the Butler, the 10⁶ field rows with bulk SQL (rows like those a put
// writes, every record pointing at one real artifact).
import Benchmark
import Butler
import Composites
import Foundation
import GRDBSQLite

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 20, maxDuration: .seconds(2), maxIterations: 2000)
    let setup: @Sendable () async throws -> Void = { try await DiscoveryRepos.shared.prepare() }

    Benchmark("calibration lookup: bias by exposure (sqlite)", configuration: .init(setup: setup)) { benchmark in
        let butler = DiscoveryRepos.shared.calibrations!
        for index in benchmark.scaledIterations {
            let (exposure, detector) = DiscoveryRepos.cycle(index)
            blackHole(
                try await butler.findDataset(
                    "bias", dataId: ["instrument": "Cam", "detector": .int(Int64(detector)), "exposure": .int(Int64(exposure))],
                    collections: ["calib"]))
        }
    }
    Benchmark("limit calibration lookup: one SELECT joining exposure and validity (raw sqlite3)", configuration: .init(setup: setup)) {
        benchmark in
        let limit = DiscoveryRepos.shared.limit!
        for index in benchmark.scaledIterations {
            let (exposure, detector) = DiscoveryRepos.cycle(index)
            blackHole(try limit.lookup(exposure: exposure, detector: detector))
        }
    }
    let join = Benchmark.Configuration(
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 10, setup: setup)
    Benchmark("temporal join: biases of 10⁵ exposures × 10 detectors (sqlite)", configuration: join) { benchmark in
        let butler = DiscoveryRepos.shared.calibrations!
        for _ in benchmark.scaledIterations {
            let matches = try await butler.findCalibrations(
                "bias", for: ["exposure", "detector"], collections: ["calib"],
                where: "instrument = 'Cam' AND exposure.observation_type = 'science'")
            precondition(matches.count == DiscoveryRepos.exposures * DiscoveryRepos.detectors, "found \(matches.count) pairs")
        }
    }
    Benchmark("limit temporal join: the same join's rows (raw sqlite3)", configuration: join) { benchmark in
        let limit = DiscoveryRepos.shared.limit!
        for _ in benchmark.scaledIterations {
            let rows = try limit.temporalJoin()
            precondition(rows == DiscoveryRepos.exposures * DiscoveryRepos.detectors, "joined \(rows) rows")
        }
    }
    Benchmark("query on a dataset field (100 refs), 10⁶ datasets (sqlite)", configuration: .init(setup: setup)) { benchmark in
        let butler = DiscoveryRepos.shared.fields!
        for index in benchmark.scaledIterations {
            let low = Double((index &* 7919) % (DiscoveryRepos.fieldDatasets / 100) * 100)
            let refs = try await butler.queryDatasets(
                ["metrics"], where: "metrics.background >= :low AND metrics.background < :high",
                bind: ["low": .double(low), "high": .double(low + 100)])
            precondition(refs.count == 100, "found \(refs.count)")
        }
    }
    Benchmark("query on a dimension (visit = v, 100 refs), 10⁶ datasets (sqlite)", configuration: .init(setup: setup)) { benchmark in
        let butler = DiscoveryRepos.shared.fields!
        for index in benchmark.scaledIterations {
            let visit = (index &* 7919) % (DiscoveryRepos.fieldDatasets / 100)
            let refs = try await butler.queryDatasets(["metrics"], where: "visit = v", bind: ["v": .int(Int64(visit))])
            precondition(refs.count == 100, "found \(refs.count)")
        }
    }
}

/// The two repositories: calibrations (10⁵ exposures, 10 detectors, 10 bias generations
/// certified back to back) and fields (10⁶ `metrics` datasets with a `background` field).
final class DiscoveryRepos: @unchecked Sendable {
    // The runner calls setup and measured closures one at a time; the properties are written
    // only in `prepare`.
    static let shared = DiscoveryRepos()
    static let exposures = 100_000
    static let detectors = 10
    static let generations = 10
    static let fieldDatasets = 1_000_000
    /// Exposure `i` starts `i` minutes after this time (TAI).
    static let start = try! AstroTime(value: "2026-01-01T00:00:00", scale: .tai)
    let directory = URL(fileURLWithPath: "/tmp/butler-bench-discovery-v2")
    private(set) var calibrations: Butler?
    private(set) var fields: Butler?
    private(set) var limit: RawDiscoveryLimit?

    static func cycle(_ index: Int) -> (exposure: Int, detector: Int) {
        let slot = (index &* 7919) % (exposures * detectors)
        return (slot / detectors, slot % detectors)
    }

    func prepare() async throws {
        if calibrations != nil { return }
        let calibRoot = directory.appendingPathComponent("calibrations")
        let fieldRoot = directory.appendingPathComponent("fields")
        if !(await opens(
            calibRoot,
            probe: { try await $0.queryDatasetAssociations("bias", collections: ["calib"]).count == Self.detectors * Self.generations }))
        {
            try await buildCalibrations(calibRoot)
        }
        if !(await opens(fieldRoot, probe: { try await $0.findDataset("metrics", dataId: Self.metricsId(Self.fieldDatasets - 1)) != nil }))
        {
            try await buildFields(fieldRoot)
        }
        calibrations = try await Butler(repository: calibRoot, writeable: false)
        fields = try await Butler(repository: fieldRoot, collections: ["bench"], writeable: false)
        limit = try RawDiscoveryLimit(database: calibRoot.appendingPathComponent("gen3.sqlite3").path)
    }

    /// Whether a complete repository is at `root` (a build interrupted leaves an incomplete one).
    private func opens(_ root: URL, probe: (Butler) async throws -> Bool) async -> Bool {
        guard let butler = try? await Butler(repository: root, collections: ["bench"], writeable: false) else { return false }
        defer { Task { try? await butler.close() } }
        return (try? await probe(butler)) == true
    }

    static func metricsId(_ slot: Int) -> DataId {
        ["instrument": "Cam", "visit": .int(Int64(slot / 100)), "detector": .int(Int64(slot % 100))]
    }

    private func buildCalibrations(_ root: URL) async throws {
        try? FileManager.default.removeItem(at: root)
        try await Butler.createRepository(at: root, config: .defaultConfig())
        let butler = try await Butler(repository: root)
        try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20260101]])
        try await butler.insertDimensionRecords("group", [["instrument": "Cam", "name": "g"]])
        try await butler.insertDimensionRecords("detector", (0..<Self.detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        let minute: Int64 = 60_000_000_000
        for chunk in stride(from: 0, to: Self.exposures, by: 10_000) {
            try await butler.insertDimensionRecords(
                "exposure",
                (chunk..<min(Self.exposures, chunk + 10_000)).map { id -> [String: JSONValue] in
                    let begin = Self.start.taiNanoseconds + Int64(id) * minute
                    return [
                        "instrument": "Cam", "id": .int(Int64(id)), "obs_id": .string("e\(id)"), "physical_filter": "Cam-r",
                        "day_obs": 20260101, "group": "g", "observation_type": "science",
                        "timespan": ["begin": .int(begin), "end": .int(begin + 30_000_000_000)],
                    ]
                })
        }
        try await butler.registerDatasetType("bias", dimensions: ["detector"], storageClass: "StructuredDataDict", isCalibration: true)
        // Generation g is valid for the g-th tenth of the exposures.
        let span = Int64(Self.exposures / Self.generations) * minute
        for generation in 0..<Self.generations {
            var refs: [DatasetRef] = []
            for detector in 0..<Self.detectors {
                refs.append(
                    try await butler.put(
                        JSONValue.object(["level": .int(Int64(generation))]), "bias",
                        dataId: ["instrument": "Cam", "detector": .int(Int64(detector))], run: "bias/\(generation)"))
            }
            let begin = Self.start.taiNanoseconds + Int64(generation) * span
            try await butler.certify(refs, collection: "calib", timespan: Timespan(nanoseconds: begin, begin + span))
        }
        try await butler.close()
    }

    private func buildFields(_ root: URL) async throws {
        try? FileManager.default.removeItem(at: root)
        try await Butler.createRepository(at: root, config: .defaultConfig())
        let butler = try await Butler(repository: root, run: "bench")
        try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20260101]])
        try await butler.insertDimensionRecords("detector", (0..<100).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        try await butler.insertDimensionRecords(
            "visit",
            (0..<(Self.fieldDatasets / 100)).map {
                ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20260101]
            })
        try await butler.registerDatasetType(
            "metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict",
            fields: [try DatasetField(parsing: "background:float")])
        let first = try await butler.put(JSONValue.object(["background": .double(0)]), "metrics", dataId: Self.metricsId(0))
        let record = try await butler.artifactRecords(first)[0]
        try await butler.close()
        try BulkFill.metrics(database: root.appendingPathComponent("gen3.sqlite3").path, count: Self.fieldDatasets, template: record)
    }
}

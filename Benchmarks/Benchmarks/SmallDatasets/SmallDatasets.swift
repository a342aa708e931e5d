// Small datasets: 1000 JSON datasets over 100 visits × 10 detectors on the embedded SQLite
// registry, next to the physical limit measured in the same run: the same rows read and
// written with raw SQLite statements and the same files read with read(2).
import Benchmark
import Butler
import Composites
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 2000)
    // Each benchmark runs in a process of its own, which makes its own repositories.
    Benchmark.teardown = { Fixture.shared.remove() }

    Benchmark("butler put (JSON, fsync)", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            let (run, visit, detector) = fixture.nextPutTarget()
            blackHole(
                try await fixture.butler.put(fixture.payload(visit, detector), "metrics", dataId: fixture.dataId(visit, detector), run: run)
            )
        }
    }

    Benchmark("butler put (JSON, datastore fsync off)", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            let (run, visit, detector) = fixture.nextPutTarget()
            blackHole(
                try await fixture.unsynced.put(
                    fixture.payload(visit, detector), "metrics", dataId: fixture.dataId(visit, detector), run: run))
        }
    }

    // One iteration is a batch of 100: report.py divides by 100 for the per-dataset figure.
    Benchmark("butler put batch of 100 (JSON, fsync)", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            let batch = (0..<100).map { _ in
                let (run, visit, detector) = fixture.nextPutTarget()
                return (run, DatasetToPut(fixture.payload(visit, detector), "metrics", dataId: fixture.dataId(visit, detector)))
            }
            // nextPutTarget moves to a new run every 1000 puts; a batch stays in one.
            blackHole(try await fixture.butler.put(contentsOf: batch.map(\.1), run: batch[0].0 + "/batch"))
        }
    }

    Benchmark(
        "limit put batch of 100: write 100 files, syncfs, one transaction (raw sqlite3)",
        configuration: .init(setup: { try await Fixture.shared.prepare() })
    ) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            try fixture.raw.putBatch(payload: fixture.payloadBytes, count: 100)
        }
    }

    Benchmark(
        "limit put: write+fsync+link file, INSERT row (raw sqlite3)", configuration: .init(setup: { try await Fixture.shared.prepare() })
    ) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            try fixture.raw.put(payload: fixture.payloadBytes)
        }
    }

    Benchmark(
        "limit put without fsync: write+link file, INSERT row (raw sqlite3)",
        configuration: .init(setup: { try await Fixture.shared.prepare() })
    ) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            try fixture.raw.put(payload: fixture.payloadBytes, sync: false)
        }
    }

    Benchmark("butler get by data ID", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for index in benchmark.scaledIterations {
            let (visit, detector) = fixture.cycle(index)
            blackHole(
                try await fixture.butler.get(
                    "metrics", dataId: fixture.dataId(visit, detector), collections: ["bench/data"], as: [String: Double].self))
        }
    }

    Benchmark("butler get by ref", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for index in benchmark.scaledIterations {
            blackHole(try await fixture.butler.get(fixture.refs[index % fixture.refs.count], as: [String: Double].self))
        }
    }

    Benchmark("limit get: SELECT by data ID (raw sqlite3) + read(2)", configuration: .init(setup: { try await Fixture.shared.prepare() })) {
        benchmark in
        let fixture = Fixture.shared
        for index in benchmark.scaledIterations {
            let (visit, detector) = fixture.cycle(index)
            blackHole(try fixture.raw.get(visit: visit, detector: detector))
        }
    }

    Benchmark("limit get by ref: SELECT by id (raw sqlite3) + read(2)", configuration: .init(setup: { try await Fixture.shared.prepare() }))
    { benchmark in
        let fixture = Fixture.shared
        for index in benchmark.scaledIterations {
            blackHole(try fixture.raw.get(id: index % 1000))
        }
    }

    Benchmark("butler query all 1000 refs", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.butler.queryDatasets(["metrics"], collections: ["bench/data"]))
        }
    }

    Benchmark("limit query all: SELECT 1000 rows (raw sqlite3)", configuration: .init(setup: { try await Fixture.shared.prepare() })) {
        benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            blackHole(try fixture.raw.queryAll())
        }
    }

    Benchmark("butler filtered query (visit = 42)", configuration: .init(setup: { try await Fixture.shared.prepare() })) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.butler.queryDatasets(["metrics"], collections: ["bench/data"], where: "visit = 42"))
        }
    }

    Benchmark(
        "limit filtered query: SELECT WHERE visit = 42 (raw sqlite3)", configuration: .init(setup: { try await Fixture.shared.prepare() })
    ) { benchmark in
        let fixture = Fixture.shared
        for _ in benchmark.scaledIterations {
            blackHole(try fixture.raw.query(visit: 42))
        }
    }
}

/// One repository with 1000 datasets, built once per benchmark process.
final class Fixture: @unchecked Sendable {
    // The benchmark runner calls setup and the measured closures one at a time, so the
    // mutable counters below are never touched concurrently.
    static let shared = Fixture()

    var butler: Butler!
    var unsynced: Butler!
    var raw: RawSQLite!
    var refs: [DatasetRef] = []
    var putCounter = 0
    let visits = 100
    let detectors = 10
    private var ready = false
    private var directory: URL?
    let payloadBytes = Data(#"{"background":1000.5,"noise":31.6,"nSaturated":3.0,"psfFwhm":0.71}"#.utf8)

    func prepare() async throws {
        guard !ready else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("butler-bench-\(UUID().uuidString)")
        self.directory = directory
        let repo = directory.appendingPathComponent("repo")
        try await Butler.createRepository(at: repo)
        butler = try await Butler(repository: repo)
        try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
        try await butler.insertDimensionRecords("detector", (0..<detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        try await butler.insertDimensionRecords(
            "visit",
            (0..<visits).map {
                ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122]
            })
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        for visit in 0..<visits {
            for detector in 0..<detectors {
                refs.append(try await butler.put(payload(visit, detector), "metrics", dataId: dataId(visit, detector), run: "bench/data"))
            }
        }
        let unsyncedRepo = directory.appendingPathComponent("unsynced")
        var config = RepositoryConfig.defaultConfig()
        config.datastore.fsync = false
        try await Butler.createRepository(at: unsyncedRepo, config: config)
        unsynced = try await Butler(repository: unsyncedRepo)
        try await unsynced.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await unsynced.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await unsynced.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
        try await unsynced.insertDimensionRecords("detector", (0..<detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        try await unsynced.insertDimensionRecords(
            "visit",
            (0..<visits).map {
                ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122]
            })
        try await unsynced.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        raw = try RawSQLite(directory: directory.appendingPathComponent("raw"), visits: visits, detectors: detectors, payload: payloadBytes)
        ready = true
    }

    /// Deletes the repositories made by `prepare`.
    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        refs = []
        ready = false
    }

    func dataId(_ visit: Int, _ detector: Int) -> DataId {
        ["instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
    }

    func payload(_ visit: Int, _ detector: Int) -> [String: JSONValue] {
        ["background": .double(1000.5 + Double(visit)), "noise": 31.6, "nSaturated": .double(Double(detector)), "psfFwhm": 0.71]
    }

    func cycle(_ index: Int) -> (Int, Int) {
        let slot = (index &* 7919) % (visits * detectors)
        return (slot / detectors, slot % detectors)
    }

    func nextPutTarget() -> (String, Int, Int) {
        defer { putCounter += 1 }
        let slot = putCounter % (visits * detectors)
        return ("bench/put/\(putCounter / (visits * detectors))", slot / detectors, slot % detectors)
    }
}

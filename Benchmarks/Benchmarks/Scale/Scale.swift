// Registry scale and concurrency: get by data ID and a filtered query with 10³, 10⁵, 10⁶ and (on
// SQLite) 10⁷ datasets in the registry (SQLite, and PostgreSQL when the run has a server), and throughput
// of 1, 2 and 4 tasks doing gets at once.
//
// The large registries are filled with bulk SQL (the Butler's own schema, rows like those a
// put writes, every record pointing at one real artifact), since a million puts would take
// the benchmark budget many times over. They are made once in /tmp/butler-bench-scale-v3 (and,
// for PostgreSQL, in the schemas of the benchmark server's data directory) and reused.
import Benchmark
import Butler
import Composites
import Foundation
import GRDBSQLite

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 20,
        maxDuration: .seconds(2),
        maxIterations: 2000)

    for engine in ScaleRepos.engines {
        for size in ScaleRepos.sizes(engine) {
            Benchmark(
                "get by data ID, \(size) datasets (\(engine))", configuration: .init(setup: { try await ScaleRepos.shared.prepare(engine) })
            ) { benchmark in
                let butler = ScaleRepos.shared.butler(engine, size)
                for index in benchmark.scaledIterations {
                    let slot = (index &* 7919) % size
                    blackHole(try await butler.get("metrics", dataId: ScaleRepos.dataId(slot), as: [String: Double].self))
                }
            }
            Benchmark(
                "filtered query (visit = v, 100 refs), \(size) datasets (\(engine))",
                configuration: .init(setup: { try await ScaleRepos.shared.prepare(engine) })
            ) { benchmark in
                let butler = ScaleRepos.shared.butler(engine, size)
                for index in benchmark.scaledIterations {
                    let visit = (index &* 31) % (size / ScaleRepos.detectors)
                    blackHole(try await butler.queryDatasets(["metrics"], where: "visit = v", bind: ["v": .int(Int64(visit))]))
                }
            }
            Benchmark(
                "limit get: raw SQL + read(2), \(size) datasets (\(engine))",
                configuration: .init(setup: { try await ScaleRepos.shared.prepare(engine) })
            ) { benchmark in
                let limit = ScaleRepos.shared.limit(engine, size)
                for index in benchmark.scaledIterations {
                    let slot = (index &* 7919) % size
                    blackHole(try await limit.get(visit: slot / ScaleRepos.detectors, detector: slot % ScaleRepos.detectors))
                }
            }
            Benchmark(
                "limit filtered query: raw SQL, \(size) datasets (\(engine))",
                configuration: .init(setup: { try await ScaleRepos.shared.prepare(engine) })
            ) { benchmark in
                let limit = ScaleRepos.shared.limit(engine, size)
                for index in benchmark.scaledIterations {
                    blackHole(try await limit.query(visit: (index &* 31) % (size / ScaleRepos.detectors)))
                }
            }
        }

        for tasks in [1, 2, 4] {
            Benchmark(
                "1000 gets by data ID in \(tasks) concurrent task(s) (\(engine))",
                configuration: .init(
                    metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds, warmupIterations: 2, maxIterations: 100,
                    setup: { try await ScaleRepos.shared.prepare(engine) })
            ) { benchmark in
                let butler = ScaleRepos.shared.butler(engine, 1000)
                // As wide as the machine, like Swift's cooperative pool: more tasks than cores
                // share threads rather than preempt each other inside the registry's locks.
                let workers = WorkerThreads.pool(count: min(tasks, ProcessInfo.processInfo.activeProcessorCount))
                for _ in benchmark.scaledIterations {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<tasks {
                            group.addTask(executorPreference: workers) {
                                for index in stride(from: task, to: 1000, by: tasks) {
                                    blackHole(try await butler.get("metrics", dataId: ScaleRepos.dataId(index), as: [String: Double].self))
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            }
        }
    }
}

/// The registry engines measured: SQLite always, PostgreSQL when the run has a server
/// (`BUTLER_BENCH_POSTGRES_URL`; `Benchmarks/run.sh` starts one).
enum Engine: String, CustomStringConvertible, Sendable {
    case sqlite
    case postgresql

    var description: String { rawValue }
}

/// Repositories of 10³, 10⁵, 10⁶ (and on SQLite 10⁷) `metrics` datasets over visits × 100
/// detectors, per engine.
final class ScaleRepos: @unchecked Sendable {
    // The runner calls setup and measured closures one at a time; `butlers` is written only in
    // `prepare` and read afterwards.
    static let shared = ScaleRepos()
    /// The registry sizes measured on an engine. 10⁷ on SQLite only (issue 10): its registry is
    /// ≈ 5 GB and takes minutes to fill once; PostgreSQL's would take far longer through the
    /// benchmark server.
    static func sizes(_ engine: Engine) -> [Int] {
        engine == .sqlite ? [1000, 100_000, 1_000_000, 10_000_000] : [1000, 100_000, 1_000_000]
    }
    static let detectors = 100
    static let postgresURL = ProcessInfo.processInfo.environment["BUTLER_BENCH_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let engines: [Engine] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgresql]
    let directory = URL(fileURLWithPath: "/tmp/butler-bench-scale-v3")
    private var butlers: [Engine: [Int: Butler]] = [:]
    private var limits: [Engine: [Int: any RawLimit]] = [:]

    static func dataId(_ slot: Int) -> DataId {
        ["instrument": "Cam", "visit": .int(Int64(slot / detectors)), "detector": .int(Int64(slot % detectors))]
    }

    func butler(_ engine: Engine, _ size: Int) -> Butler { butlers[engine]![size]! }

    func limit(_ engine: Engine, _ size: Int) -> any RawLimit { limits[engine]![size]! }

    private func root(_ engine: Engine, _ size: Int) -> URL {
        directory.appendingPathComponent("\(engine)-\(size)")
    }

    /// The PostgreSQL schema of one repository (kept in the server's data directory between runs).
    private static func schema(_ size: Int) -> String { "bench_scale_v3_\(size)" }

    func prepare(_ engine: Engine) async throws {
        if butlers[engine] != nil { return }
        var opened: [Int: Butler] = [:]
        for size in Self.sizes(engine) {
            let root = root(engine, size)
            if engine == .postgresql, FileManager.default.fileExists(atPath: root.path) {
                // The server's port differs between runs; the schema and its rows persist.
                var config = try RepositoryConfig.load(root: root)
                config.registry.db = Self.postgresURL!
                try config.write(root: root)
            }
            if let butler = try? await Butler(repository: root, collections: ["bench"], writeable: false),
                (try? await butler.findDataset("metrics", dataId: Self.dataId(size - 1))) != nil
            {
                opened[size] = butler
                continue
            }
            try await build(engine, size)
            opened[size] = try await Butler(repository: root, collections: ["bench"], writeable: false)
        }
        var raw: [Int: any RawLimit] = [:]
        for (size, butler) in opened {
            let prefix = try await artifactPrefix(butler)
            switch engine {
            case .sqlite:
                raw[size] = try RawSQLiteLimit(
                    database: root(engine, size).appendingPathComponent("gen3.sqlite3").path, artifactPrefix: prefix)
            case .postgresql:
                raw[size] = try await RawPostgresLimit(url: Self.postgresURL!, schema: Self.schema(size), artifactPrefix: prefix)
            }
        }
        butlers[engine] = opened
        limits[engine] = raw
    }

    /// What the datastore prefixes recorded artifact paths with.
    private func artifactPrefix(_ butler: Butler) async throws -> String {
        let ref = try await butler.findDataset("metrics", dataId: Self.dataId(0))!
        let recorded = try await butler.artifactRecords(ref)[0].path
        let path = try await butler.artifactURLs(ref)[0].path
        guard path.hasSuffix(recorded) else { throw BulkError("artifact \(path) does not end with its recorded path \(recorded)") }
        return String(path.dropLast(recorded.count))
    }

    private func build(_ engine: Engine, _ size: Int) async throws {
        let root = root(engine, size)
        try? FileManager.default.removeItem(at: root)
        let config: RepositoryConfig
        switch engine {
        case .sqlite:
            config = .defaultConfig()
        case .postgresql:
            try await PostgresBulk.execute(Self.postgresURL!, "DROP SCHEMA IF EXISTS \(Self.schema(size)) CASCADE")
            config = .defaultConfig(database: Self.postgresURL!, namespace: Self.schema(size))
        }
        try await Butler.createRepository(at: root, config: config)
        let butler = try await Butler(repository: root, run: "bench")
        try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
        try await butler.insertDimensionRecords("detector", (0..<Self.detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        let visits = size / Self.detectors
        try await butler.insertDimensionRecords(
            "visit",
            (0..<visits).map {
                ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122]
            })
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        let first = try await butler.put(["background": JSONValue.double(1000.5)], "metrics", dataId: Self.dataId(0))
        let record = try await butler.artifactRecords(first)[0]
        try await butler.close()
        switch engine {
        case .sqlite:
            try bulkInsert(database: root.appendingPathComponent("gen3.sqlite3").path, count: size, template: record)
        case .postgresql:
            try await PostgresBulk.fill(
                Self.postgresURL!, schema: Self.schema(size), count: size, detectors: Self.detectors, template: record)
        }
    }

    /// Inserts datasets 1..<count with the rows a put would write, in one transaction.
    private func bulkInsert(database: String, count: Int, template: StoredFileInfo) throws {
        var db: OpaquePointer?
        guard sqlite3_open(database, &db) == SQLITE_OK else { throw failure(db, "open") }
        defer { sqlite3_close(db) }
        func scalar(_ sql: String) throws -> (Int64, String) {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, sqlite3_step(statement) == SQLITE_ROW else {
                throw failure(db, sql)
            }
            defer { sqlite3_finalize(statement) }
            let text = sqlite3_column_text(statement, 1).map { String(cString: $0) } ?? ""
            return (sqlite3_column_int64(statement, 0), text)
        }
        let (typeId, tagTable) = try scalar("SELECT dataset_type_id, tag_table FROM dataset_type WHERE name = 'metrics'")
        let (runId, _) = try scalar("SELECT collection_id, name FROM collection WHERE name = 'bench'")
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        func prepare(_ sql: String) throws -> OpaquePointer? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw failure(db, sql) }
            return statement
        }
        let dataset = try prepare("INSERT INTO dataset (id, dataset_type_id, run_id, ingest_date) VALUES (?, ?, ?, 0)")
        let tag = try prepare(
            "INSERT INTO \(tagTable) (dataset_type_id, collection_id, dataset_id, run_id, instrument, detector, visit) VALUES (?, ?, ?, ?, 'Cam', ?, ?)"
        )
        let artifact = try prepare(
            "INSERT INTO file_datastore_records (datastore_name, dataset_id, component, path, formatter, storage_class, file_size, checksum) VALUES ('FileDatastore@<butlerRoot>', ?, '', ?, ?, ?, ?, NULL)"
        )
        defer { [dataset, tag, artifact].forEach { sqlite3_finalize($0) } }
        guard sqlite3_exec(db, "BEGIN", nil, nil, nil) == SQLITE_OK else { throw failure(db, "BEGIN") }
        for slot in 1..<count {
            let id = withUnsafeBytes(of: DatasetIdFactory.uuid7().uuid) { Array($0) }
            id.withUnsafeBytes { _ = sqlite3_bind_blob(dataset, 1, $0.baseAddress, 16, transient) }
            sqlite3_bind_int64(dataset, 2, typeId)
            sqlite3_bind_int64(dataset, 3, runId)
            id.withUnsafeBytes { _ = sqlite3_bind_blob(tag, 3, $0.baseAddress, 16, transient) }
            sqlite3_bind_int64(tag, 1, typeId)
            sqlite3_bind_int64(tag, 2, runId)
            sqlite3_bind_int64(tag, 4, runId)
            sqlite3_bind_int64(tag, 5, Int64(slot % Self.detectors))
            sqlite3_bind_int64(tag, 6, Int64(slot / Self.detectors))
            id.withUnsafeBytes { _ = sqlite3_bind_blob(artifact, 1, $0.baseAddress, 16, transient) }
            sqlite3_bind_text(artifact, 2, template.path, -1, transient)
            sqlite3_bind_text(artifact, 3, template.formatter, -1, transient)
            sqlite3_bind_text(artifact, 4, template.storageClass, -1, transient)
            sqlite3_bind_int64(artifact, 5, template.fileSize)
            for statement in [dataset, tag, artifact] {
                guard sqlite3_step(statement) == SQLITE_DONE else { throw failure(db, "bulk insert") }
                sqlite3_reset(statement)
            }
        }
        guard sqlite3_exec(db, "COMMIT; ANALYZE", nil, nil, nil) == SQLITE_OK else { throw failure(db, "COMMIT") }
    }

    private func failure(_ db: OpaquePointer?, _ what: String) -> NSError {
        NSError(
            domain: "Scale", code: 1,
            userInfo: [NSLocalizedDescriptionKey: "\(what): \(db.map { String(cString: sqlite3_errmsg($0)) } ?? "?")"])
    }
}

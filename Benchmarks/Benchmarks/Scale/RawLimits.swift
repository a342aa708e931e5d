// The physical limit of the scale workloads: the same rows the Butler finds, read from the
// same registry with one raw SQL statement (sqlite3 prepared statements, or PostgresNIO on a
// client of its own), and for a get the artifact read with read(2).
import Butler
import Foundation
import GRDBSQLite
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Raw look-ups on one scale repository.
protocol RawLimit: Sendable {
    /// Finds the `metrics` dataset of (visit, detector) and reads its artifact; returns bytes read.
    func get(visit: Int, detector: Int) async throws -> Int
    /// Lists the `metrics` datasets of `visit`; returns the row count.
    func query(visit: Int) async throws -> Int
}

/// Where a repository's rows are: the tag table, the dataset type and run keys, and the
/// directory recorded artifact paths are relative to.
struct RawLayout: Sendable {
    let tagTable: String
    let typeId: Int64
    let runId: Int64
    let artifactPrefix: String

    static let typeSQL = "SELECT dataset_type_id, tag_table FROM dataset_type WHERE name = 'metrics'"
    static let runSQL = "SELECT collection_id, name FROM collection WHERE name = 'bench'"

    var getSQL: String {
        """
        SELECT r.path FROM \(tagTable) t JOIN file_datastore_records r ON r.dataset_id = t.dataset_id AND r.datastore_name = 'FileDatastore@<butlerRoot>' AND r.component = ''
        WHERE t.dataset_type_id = \(typeId) AND t.collection_id = \(runId) AND t.instrument = 'Cam' AND t.visit = ? AND t.detector = ?
        """
    }

    var querySQL: String {
        "SELECT t.dataset_id, t.visit, t.detector FROM \(tagTable) t WHERE t.dataset_type_id = \(typeId) AND t.collection_id = \(runId) AND t.visit = ?"
    }

    /// Reads a recorded artifact with read(2).
    func read(_ recordedPath: String) throws -> Int {
        let path = artifactPrefix + recordedPath
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BulkError("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
    }
}

/// The limit on the embedded registry: sqlite3 prepared statements on a connection of its own.
final class RawSQLiteLimit: RawLimit, @unchecked Sendable {
    // Used by one benchmark loop at a time (the runner measures one closure at a time).
    private var db: OpaquePointer?
    private let select: OpaquePointer?
    private let selectVisit: OpaquePointer?
    private let layout: RawLayout

    /// Opens the registry database read-only; recorded paths are relative to `artifactPrefix`.
    init(database: String, artifactPrefix: String) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw BulkError("cannot open \(database)")
        }
        self.db = db
        func prepare(_ sql: String) throws -> OpaquePointer? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
                throw BulkError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
            return statement
        }
        func scalar(_ sql: String) throws -> (Int64, String) {
            let statement = try prepare(sql)
            defer { sqlite3_finalize(statement) }
            guard sqlite3_step(statement) == SQLITE_ROW else { throw BulkError("no row for \(sql)") }
            return (sqlite3_column_int64(statement, 0), sqlite3_column_text(statement, 1).map { String(cString: $0) } ?? "")
        }
        let (typeId, tagTable) = try scalar(RawLayout.typeSQL)
        let (runId, _) = try scalar(RawLayout.runSQL)
        layout = RawLayout(tagTable: tagTable, typeId: typeId, runId: runId, artifactPrefix: artifactPrefix)
        select = try prepare(layout.getSQL)
        selectVisit = try prepare(layout.querySQL)
    }

    deinit {
        sqlite3_finalize(select)
        sqlite3_finalize(selectVisit)
        sqlite3_close(db)
    }

    func get(visit: Int, detector: Int) async throws -> Int {
        sqlite3_bind_int64(select, 1, Int64(visit))
        sqlite3_bind_int64(select, 2, Int64(detector))
        defer { sqlite3_reset(select) }
        guard sqlite3_step(select) == SQLITE_ROW else { throw BulkError("no metrics for visit \(visit), detector \(detector)") }
        return try layout.read(String(cString: sqlite3_column_text(select, 0)))
    }

    func query(visit: Int) async throws -> Int {
        sqlite3_bind_int64(selectVisit, 1, Int64(visit))
        defer { sqlite3_reset(selectVisit) }
        var count = 0
        while sqlite3_step(selectVisit) == SQLITE_ROW {
            _ = sqlite3_column_blob(selectVisit, 0)
            _ = sqlite3_column_int64(selectVisit, 1)
            _ = sqlite3_column_int64(selectVisit, 2)
            count += 1
        }
        return count
    }
}

/// The limit on PostgreSQL: the same statement through a PostgresNIO client of its own.
final class RawPostgresLimit: RawLimit, Sendable {
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let layout: RawLayout
    private let getSQL: String
    private let querySQL: String
    private static let logger = Logger(label: "bench.postgres.limit")

    /// Connects to the repository in `schema`; recorded paths are relative to `artifactPrefix`.
    init(url: String, schema: String, artifactPrefix: String) async throws {
        var configuration = try PostgresBulk.configuration(url)
        configuration.options.additionalStartupParameters = [("search_path", schema)]
        let client = PostgresClient(configuration: configuration)
        self.client = client
        runTask = Task { await client.run() }
        var type: (Int64, String)?
        for try await row in try await client.query(PostgresQuery(unsafeSQL: RawLayout.typeSQL), logger: Self.logger).decode(
            (Int64, String).self)
        {
            type = row
        }
        var run: Int64?
        for try await (id, _) in try await client.query(PostgresQuery(unsafeSQL: RawLayout.runSQL), logger: Self.logger).decode(
            (Int64, String).self)
        {
            run = id
        }
        guard let (typeId, tagTable) = type, let runId = run else { throw BulkError("no metrics or bench in schema \(schema)") }
        let layout = RawLayout(tagTable: tagTable, typeId: typeId, runId: runId, artifactPrefix: artifactPrefix)
        self.layout = layout
        getSQL = layout.getSQL.replacingOccurrences(of: "t.visit = ? AND t.detector = ?", with: "t.visit = $1 AND t.detector = $2")
        querySQL = layout.querySQL.replacingOccurrences(of: "t.visit = ?", with: "t.visit = $1")
    }

    deinit { runTask.cancel() }

    func get(visit: Int, detector: Int) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(Int64(visit))
        binds.append(Int64(detector))
        var path: String?
        for try await recorded in try await client.query(PostgresQuery(unsafeSQL: getSQL, binds: binds), logger: Self.logger).decode(
            String.self)
        {
            path = recorded
        }
        guard let path else { throw BulkError("no metrics for visit \(visit), detector \(detector)") }
        return try layout.read(path)
    }

    func query(visit: Int) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(Int64(visit))
        var count = 0
        for try await _ in try await client.query(PostgresQuery(unsafeSQL: querySQL, binds: binds), logger: Self.logger) { count += 1 }
        return count
    }
}

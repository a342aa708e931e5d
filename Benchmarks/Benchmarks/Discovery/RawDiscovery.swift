// The limits of the discovery workloads (the same rows through one raw sqlite3 statement on a
// connection of its own) and the bulk fill of the 10⁶-dataset field repository.
import Butler
import Foundation
import GRDBSQLite

struct DiscoveryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One sqlite3 connection and its prepared statements; closed when released.
final class SQLiteConnection: @unchecked Sendable {
    // Used by one benchmark loop (or the one-time fill) at a time.
    let db: OpaquePointer?
    private var statements: [OpaquePointer?] = []

    init(path: String, readOnly: Bool) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
            throw DiscoveryError("cannot open \(path)")
        }
        self.db = db
    }

    deinit {
        statements.forEach { sqlite3_finalize($0) }
        sqlite3_close(db)
    }

    func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw DiscoveryError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        statements.append(statement)
        return statement
    }

    /// The first row's integer and text columns of `sql`.
    func scalar(_ sql: String) throws -> (Int64, String) {
        let statement = try prepare(sql)
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw DiscoveryError("no row for \(sql)") }
        return (sqlite3_column_int64(statement, 0), sqlite3_column_text(statement, 1).map { String(cString: $0) } ?? "")
    }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw DiscoveryError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    /// Steps a statement to its end; returns the rows it gave.
    func rows(_ statement: OpaquePointer?, columns: Int32) -> Int {
        defer { sqlite3_reset(statement) }
        var count = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            for column in 0..<columns { _ = sqlite3_column_int64(statement, column) }
            count += 1
        }
        return count
    }
}

/// The calibration workloads as one statement each.
final class RawDiscoveryLimit: @unchecked Sendable {
    private let connection: SQLiteConnection
    private let lookupStatement: OpaquePointer?
    private let joinStatement: OpaquePointer?

    init(database: String) throws {
        connection = try SQLiteConnection(path: database, readOnly: true)
        let (typeId, _) = try connection.scalar("SELECT dataset_type_id, name FROM dataset_type WHERE name = 'bias'")
        let (collectionId, _) = try connection.scalar("SELECT collection_id, name FROM collection WHERE name = 'calib'")
        let (_, table) = try connection.scalar("SELECT 0, calib_table FROM dataset_calib_tables")
        let overlap = "c.validity_begin < e.timespan_end AND e.timespan_begin < c.validity_end"
        lookupStatement = try connection.prepare(
            """
            SELECT c.dataset_id FROM dim_exposure e JOIN \(table) c ON \(overlap)
            WHERE e.instrument = 'Cam' AND e.id = ? AND c.dataset_type_id = \(typeId) AND c.collection_id = \(collectionId)
            AND c.instrument = 'Cam' AND c.detector = ?
            """)
        // The statement the Butler issues, less its generality: the begin bounded by the
        // longest exposure (so the index on it serves), ordered by data ID.
        joinStatement = try connection.prepare(
            """
            SELECT c.dataset_id, e.id, c.detector FROM \(table) c JOIN dim_exposure e ON e.instrument = c.instrument AND \(overlap)
            AND e.timespan_begin > c.validity_begin - (SELECT MAX(x.timespan_end - x.timespan_begin) FROM dim_exposure x)
            WHERE c.dataset_type_id = \(typeId) AND c.collection_id = \(collectionId) AND e.observation_type = 'science'
            ORDER BY c.instrument, c.detector, e.id
            """)
    }

    func lookup(exposure: Int, detector: Int) throws -> Int {
        sqlite3_bind_int64(lookupStatement, 1, Int64(exposure))
        sqlite3_bind_int64(lookupStatement, 2, Int64(detector))
        let found = connection.rows(lookupStatement, columns: 1)
        guard found == 1 else { throw DiscoveryError("exposure \(exposure) detector \(detector): \(found) biases") }
        return found
    }

    func temporalJoin() throws -> Int { connection.rows(joinStatement, columns: 3) }
}

/// Fills the field repository with the rows a put writes: dataset, tag, artifact record
/// (sharing one real artifact) and field values (`background` = the dataset's slot).
enum BulkFill {
    static func metrics(database: String, count: Int, template: StoredFileInfo) throws {
        let connection = try SQLiteConnection(path: database, readOnly: false)
        let (typeId, tagTable) = try connection.scalar("SELECT dataset_type_id, tag_table FROM dataset_type WHERE name = 'metrics'")
        let (runId, _) = try connection.scalar("SELECT collection_id, name FROM collection WHERE name = 'bench'")
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let dataset = try connection.prepare("INSERT INTO dataset (id, dataset_type_id, run_id, ingest_date) VALUES (?, ?, ?, 0)")
        let tag = try connection.prepare(
            "INSERT INTO \(tagTable) (dataset_type_id, collection_id, dataset_id, run_id, instrument, detector, visit) VALUES (?, ?, ?, ?, 'Cam', ?, ?)"
        )
        let artifact = try connection.prepare(
            "INSERT INTO file_datastore_records (datastore_name, dataset_id, component, path, formatter, storage_class, file_size, checksum) VALUES ('FileDatastore@<butlerRoot>', ?, '', ?, ?, ?, ?, NULL)"
        )
        let field = try connection.prepare("INSERT INTO dataset_fields_\(typeId) (dataset_id, field_count, background) VALUES (?, 1, ?)")
        try connection.execute("BEGIN")
        for slot in 1..<count {
            let id = withUnsafeBytes(of: DatasetIdFactory.uuid7().uuid) { Array($0) }
            for (statement, index) in [(dataset, Int32(1)), (tag, 3), (artifact, 1), (field, 1)] {
                id.withUnsafeBytes { _ = sqlite3_bind_blob(statement, index, $0.baseAddress, 16, transient) }
            }
            sqlite3_bind_int64(dataset, 2, typeId)
            sqlite3_bind_int64(dataset, 3, runId)
            sqlite3_bind_int64(tag, 1, typeId)
            sqlite3_bind_int64(tag, 2, runId)
            sqlite3_bind_int64(tag, 4, runId)
            sqlite3_bind_int64(tag, 5, Int64(slot % 100))
            sqlite3_bind_int64(tag, 6, Int64(slot / 100))
            sqlite3_bind_text(artifact, 2, template.path, -1, transient)
            sqlite3_bind_text(artifact, 3, template.formatter, -1, transient)
            sqlite3_bind_text(artifact, 4, template.storageClass, -1, transient)
            sqlite3_bind_int64(artifact, 5, template.fileSize)
            // Values spread over the slots in another order than visits, so that a range of 100
            // values is not one visit's rows.
            sqlite3_bind_double(field, 2, Double((slot &* 7_919) % count))
            for statement in [dataset, tag, artifact, field] {
                guard sqlite3_step(statement) == SQLITE_DONE else {
                    throw DiscoveryError("bulk insert: \(String(cString: sqlite3_errmsg(connection.db)))")
                }
                sqlite3_reset(statement)
            }
        }
        try connection.execute("COMMIT; ANALYZE")
    }
}

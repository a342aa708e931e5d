// The import's limit: the rows an import must write for each dataset (the dataset, its run
// membership by data ID, its artifact record), by raw sqlite3 in one transaction with prepared
// statements, on the same settings as the registry (WAL, synchronous NORMAL, a 64 MiB page
// cache), in dataset ID order (index pages filled in order, as the import does).
import Foundation
import GRDBSQLite

/// Inserts `count` datasets' three rows into a new database at `path`; returns the rows of the
/// dataset table.
func rawImportRows(_ path: String, _ count: Int) -> Int {
    var db: OpaquePointer?
    precondition(sqlite3_open(path, &db) == SQLITE_OK)
    defer { sqlite3_close(db) }
    func exec(_ sql: String) { precondition(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK, sql) }
    func prepare(_ sql: String) -> OpaquePointer? {
        var statement: OpaquePointer?
        precondition(sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, sql)
        return statement
    }
    exec("PRAGMA journal_mode = WAL")
    exec("PRAGMA synchronous = NORMAL")
    exec("PRAGMA cache_size = -65536")
    exec("CREATE TABLE dataset (id BLOB PRIMARY KEY, dataset_type_id INTEGER, run_id INTEGER, ingest_date INTEGER)")
    exec(
        "CREATE TABLE tag (dataset_type_id INTEGER, collection_id INTEGER, dataset_id BLOB, run_id INTEGER, instrument TEXT, visit INTEGER, detector INTEGER, PRIMARY KEY (collection_id, dataset_id), UNIQUE (dataset_type_id, collection_id, instrument, visit, detector))"
    )
    exec(
        "CREATE TABLE records (datastore_name TEXT, dataset_id BLOB, component TEXT, path TEXT, formatter TEXT, storage_class TEXT, file_size INTEGER, checksum TEXT, PRIMARY KEY (dataset_id, component))"
    )
    let dataset = prepare("INSERT INTO dataset VALUES (?, 1, 1, 0)")
    let tag = prepare("INSERT INTO tag VALUES (1, 1, ?, 1, 'Cam', ?, ?)")
    let record = prepare("INSERT INTO records VALUES ('FileDatastore', ?, '', ?, 'JSONFormatter', 'StructuredDataDict', 100, '00000000')")
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    let ids = (0..<count).map { _ in UUID() }.sorted { left, right in
        withUnsafeBytes(of: left.uuid) { a in withUnsafeBytes(of: right.uuid) { b in a.lexicographicallyPrecedes(b) } }
    }
    exec("BEGIN")
    for index in 0..<count {
        var id = ids[index].uuid
        withUnsafeBytes(of: &id) { bytes in
            for statement in [dataset, tag, record] { sqlite3_bind_blob(statement, 1, bytes.baseAddress, 16, transient) }
        }
        sqlite3_bind_int64(tag, 2, Int64(index / 100))
        sqlite3_bind_int64(tag, 3, Int64(index % 100))
        sqlite3_bind_text(record, 2, "/data/bench/metrics/\(index).json", -1, transient)
        for statement in [dataset, tag, record] {
            precondition(sqlite3_step(statement) == SQLITE_DONE)
            sqlite3_reset(statement)
        }
    }
    exec("COMMIT")
    for statement in [dataset, tag, record] { sqlite3_finalize(statement) }
    var rows: OpaquePointer?
    precondition(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM dataset", -1, &rows, nil) == SQLITE_OK)
    defer { sqlite3_finalize(rows) }
    precondition(sqlite3_step(rows) == SQLITE_ROW)
    return Int(sqlite3_column_int64(rows, 0))
}

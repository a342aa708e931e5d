// The physical limit for small datasets: what the registry and datastore must do at the least,
// written directly against sqlite3 and POSIX calls (same WAL journal, same fsync policy).
import BareIO
import Foundation
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#endif

final class RawSQLite {
    private var db: OpaquePointer?
    private var insert: OpaquePointer?
    private var select: OpaquePointer?
    private var selectAll: OpaquePointer?
    private var selectId: OpaquePointer?
    private var ids: [[UInt8]] = []
    private var selectVisit: OpaquePointer?
    private let directory: URL
    private var counter = 0
    private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(directory: URL, visits: Int, detectors: Int, payload: Data) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard sqlite3_open(directory.appendingPathComponent("raw.sqlite3").path, &db) == SQLITE_OK else { throw failure("open") }
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA synchronous = NORMAL")
        try exec(
            "CREATE TABLE datasets (id BLOB PRIMARY KEY, visit INTEGER, detector INTEGER, run TEXT, path TEXT, UNIQUE (run, visit, detector))"
        )
        insert = try prepare("INSERT INTO datasets (id, visit, detector, run, path) VALUES (?, ?, ?, ?, ?)")
        select = try prepare("SELECT path FROM datasets WHERE run = 'data' AND visit = ? AND detector = ?")
        selectAll = try prepare("SELECT id, visit, detector, path FROM datasets WHERE run = 'data'")
        selectId = try prepare("SELECT path FROM datasets WHERE id = ?")
        selectVisit = try prepare("SELECT id, visit, detector, path FROM datasets WHERE run = 'data' AND visit = ?")
        try exec("BEGIN")
        for visit in 0..<visits {
            for detector in 0..<detectors {
                let path = directory.appendingPathComponent("d_\(visit)_\(detector).json").path
                try payload.write(to: URL(fileURLWithPath: path))
                try insertRow(visit: visit, detector: detector, run: "data", path: path)
            }
        }
        try exec("COMMIT")
    }

    /// Writes a file under a temporary name, fsyncs it (when `sync`), links it into place, and
    /// inserts its row; the directory is fsynced before the commit (when `sync`).
    func put(payload: Data, sync: Bool = true) throws {
        counter += 1
        let path = directory.appendingPathComponent("p_\(counter).json").path
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure("open \(temporary)") }
        _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if sync { fsync(fd) }
        close(fd)
        try exec("BEGIN IMMEDIATE")
        try insertRow(visit: counter, detector: 0, run: "put", path: path)
        link(temporary, path)
        unlink(temporary)
        if sync {
            let dir = open(directory.path, O_RDONLY | O_DIRECTORY)
            fsync(dir)
            close(dir)
        }
        try exec("COMMIT")
    }

    /// `count` files written under temporary names, made durable by one `syncfs`, then one
    /// transaction inserting their rows and linking them into place, the directory fsynced
    /// before the commit: the least a durable batch must do.
    func putBatch(payload: Data, count: Int) throws {
        var temporaries: [(String, String)] = []
        for _ in 0..<count {
            counter += 1
            let path = directory.appendingPathComponent("p_\(counter).json").path
            let temporary = path + ".tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw failure("open \(temporary)") }
            _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            temporaries.append((temporary, path))
        }
        let dir = open(directory.path, O_RDONLY | O_DIRECTORY)
        defer { close(dir) }
        guard bare_syncfs(dir) == 0 else { throw failure("syncfs") }
        try exec("BEGIN IMMEDIATE")
        for (index, (temporary, path)) in temporaries.enumerated() {
            try insertRow(visit: counter - count + index + 1, detector: 0, run: "put", path: path)
            link(temporary, path)
            unlink(temporary)
        }
        fsync(dir)
        try exec("COMMIT")
    }

    /// Looks a row up by data ID and reads its file with read(2).
    func get(visit: Int, detector: Int) throws -> Int {
        sqlite3_bind_int64(select, 1, Int64(visit))
        sqlite3_bind_int64(select, 2, Int64(detector))
        defer { sqlite3_reset(select) }
        guard sqlite3_step(select) == SQLITE_ROW else { throw failure("select") }
        let path = String(cString: sqlite3_column_text(select, 0))
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    }

    /// Looks a row up by dataset ID and reads its file with read(2).
    func get(id index: Int) throws -> Int {
        let id = ids[index % ids.count]
        _ = id.withUnsafeBytes { sqlite3_bind_blob(selectId, 1, $0.baseAddress, 16, transient) }
        defer { sqlite3_reset(selectId) }
        guard sqlite3_step(selectId) == SQLITE_ROW else { throw failure("select by id") }
        return try readFile(String(cString: sqlite3_column_text(selectId, 0)))
    }

    private func readFile(_ path: String) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    }

    func queryAll() throws -> Int { try rows(selectAll) }

    func query(visit: Int) throws -> Int {
        sqlite3_bind_int64(selectVisit, 1, Int64(visit))
        return try rows(selectVisit)
    }

    private func rows(_ statement: OpaquePointer?) throws -> Int {
        defer { sqlite3_reset(statement) }
        var count = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            _ = sqlite3_column_blob(statement, 0)
            _ = sqlite3_column_int64(statement, 1)
            _ = sqlite3_column_int64(statement, 2)
            _ = sqlite3_column_text(statement, 3)
            count += 1
        }
        return count
    }

    private func insertRow(visit: Int, detector: Int, run: String, path: String) throws {
        let id = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        if run == "data" { ids.append(id) }
        _ = id.withUnsafeBytes { sqlite3_bind_blob(insert, 1, $0.baseAddress, 16, transient) }
        sqlite3_bind_int64(insert, 2, Int64(visit))
        sqlite3_bind_int64(insert, 3, Int64(detector))
        sqlite3_bind_text(insert, 4, run, -1, transient)
        sqlite3_bind_text(insert, 5, path, -1, transient)
        defer { sqlite3_reset(insert) }
        guard sqlite3_step(insert) == SQLITE_DONE else { throw failure("insert") }
    }

    private func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw failure(sql) }
        return statement
    }

    private func failure(_ what: String) -> NSError {
        NSError(domain: "RawSQLite", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: sqlite3_errmsg(db)))"])
    }
}

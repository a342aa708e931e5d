import Foundation
import GRDB
import GRDBSQLite

/// The embedded registry engine: one SQLite file in WAL mode, through GRDB.
///
/// Units of work run inline on the calling thread through GRDB's synchronous API: a lookup
/// costs a few microseconds, far less than a hop to another executor would (DESIGN §5).
/// `DatabasePool` gives concurrent readers and one writer; a busy timeout makes writers from
/// other processes wait instead of failing.
final class SQLiteDatabase: SQLDatabase {
    // GRDB's DatabasePool is Sendable and serialises access to its connections itself.
    private let pool: DatabasePool
    let path: String
    var dialect: SQLDialect { .sqlite }

    /// Opens (or creates, unless `readOnly`) the database file at `path`.
    init(path: String, readOnly: Bool, busyTimeout: TimeInterval = 30) throws {
        if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw ButlerError.configuration("registry database \(path) does not exist")
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        // WAL with synchronous=NORMAL: a commit survives a process crash; the WAL is synced
        // at checkpoints. Artifacts are fsynced before the row that names them commits.
        configuration.prepareDatabase { db in
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw ButlerError(.storageFailure, "cannot open the registry database \(path)", cause: SQLiteSession.translate(error, sql: ""))
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try readNow(body)
    }

    func readLatest<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try readLatestNow(body)
    }

    private func readLatestNow<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try translatingErrors { try pool.unsafeRead { db in try body(SQLiteSession(db: db)) } }
    }

    /// Runs GRDB work, turning statement failures into ``ButlerError``s that keep the
    /// ``SQLError`` as their cause.
    private func translatingErrors<T>(_ work: () throws -> T) throws -> T {
        do { return try work() } catch let error as DatabaseError {
            throw SQLiteSession.translate(error, sql: error.sql ?? "").butlerError
        } catch let error as SQLError {
            throw error.butlerError
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try writeNow(body)
    }

    /// Synchronous on purpose: inside an `async` function GRDB would pick its async overloads,
    /// which bridge through a dispatch queue (≈150 µs); the synchronous ones cost ≈30 µs.
    private func readNow<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try translatingErrors { try pool.read { db in try body(SQLiteSession(db: db)) } }
    }

    private func writeNow<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try translatingErrors {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteSession(db: db))
                    return .commit
                }
                return result!
            }
        }
    }

    func close() async throws {
        try pool.close()
    }
}

/// Statements on one GRDB connection, through its statement cache.
struct SQLiteSession: SQLSession {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        do {
            if arguments.isEmpty && sql.contains(";") {
                try db.execute(sql: sql)
            } else {
                let statement = try db.cachedStatement(sql: sql)
                try statement.execute(arguments: Self.arguments(arguments))
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, sql: sql)
        }
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        do {
            let statement = try db.cachedStatement(sql: sql)
            try statement.setArguments(Self.arguments(arguments))
            // Rows are stepped with the C API on GRDB's prepared statement: GRDB's generic row
            // decoding cost more than the query itself for thousand-row results.
            let handle = statement.sqliteStatement
            defer { sqlite3_reset(handle) }
            let columns = statement.columnNames
            let count = Int32(columns.count)
            var rows: [SQLRow] = []
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw SQLError(
                        engine: "sqlite", message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql,
                        isConstraintViolation: code & 0xFF == SQLITE_CONSTRAINT,
                        isTransient: code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED)
                }
                var values: [SQLValue] = []
                values.reserveCapacity(columns.count)
                for index in 0..<count { values.append(Self.column(handle, index)) }
                rows.append(SQLRow(columns: columns, values: values))
            }
            return rows
        } catch let error as DatabaseError {
            throw Self.translate(error, sql: sql)
        }
    }

    /// One column of the current row.
    private static func column(_ handle: OpaquePointer?, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            let length = Int(sqlite3_column_bytes(handle, index))
            guard let text = sqlite3_column_text(handle, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite3_column_bytes(handle, index))
            guard let bytes = sqlite3_column_blob(handle, index) else { return .blob([]) }
            // The schema's only 16-byte blobs are UUIDs (SQLite has no UUID type).
            if length == 16 { return .uuid(UUID(uuid: bytes.loadUnaligned(as: uuid_t.self))) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
        default: return .null
        }
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .null: return nil
                case .integer(let int): return int
                case .real(let double): return double
                case .text(let text): return text
                case .blob(let bytes): return Data(bytes)
                case .uuid(let uuid): return withUnsafeBytes(of: uuid.uuid) { Data($0) }
                }
            })
    }

    static func translate(_ error: any Error, sql: String) -> SQLError {
        guard let error = error as? DatabaseError else {
            return SQLError(engine: "sqlite", message: "\(error)", sql: sql)
        }
        return SQLError(
            engine: "sqlite", message: error.message ?? "\(error.resultCode)", sql: sql,
            isConstraintViolation: error.resultCode == .SQLITE_CONSTRAINT,
            isTransient: error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED)
    }
}

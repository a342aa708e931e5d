import Foundation
import GRDB
import GRDBSQLite
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded registry engine: one SQLite file in WAL mode, through GRDB.
///
/// Units of work run inline on the calling thread through GRDB's synchronous API: a lookup
/// costs a few microseconds, far less than a hop to another executor would (DESIGN §5).
/// `DatabasePool` gives concurrent readers and one writer; a busy timeout makes writers from
/// other processes wait instead of failing.
final class SQLiteDatabase: SQLDatabase {
    let statements = SQLStatementCounter()
    // GRDB's DatabasePool is Sendable and serialises access to its connections itself.
    private let pool: DatabasePool
    /// A read-only connection of its own for look-ups, taken when no other task holds it.
    ///
    /// Why: a read through the pool costs ≈ 28 µs on this machine, most of it the pool's
    /// hand-off (a reader picked under a lock, a schema-version statement before every read),
    /// where this connection costs ≈ 10 µs. Our statements are plain SQL through the statement
    /// cache, which SQLite re-prepares itself when another process changes the schema, so
    /// GRDB's schema check buys nothing here. Concurrent readers still get the pool's
    /// connections: the fast one is only ever borrowed, never waited for.
    private let fastReader: DatabaseQueue?
    private let fastReaderBusy = Atomic<Bool>(false)
    let path: String
    var dialect: SQLDialect { .sqlite }
    var localFile: String? { path }

    /// The file's identity when opened: a unit of work on a file removed or replaced since
    /// would make SQLite create a new, empty registry under the same name.
    private let identity: (device: UInt64, inode: UInt64)

    /// Opens the database file at `path`; only with `create` may it not exist yet.
    init(path: String, readOnly: Bool, create: Bool = false, busyTimeout: TimeInterval = 30) throws {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw ButlerError.configuration("registry database \(path) does not exist")
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        // WAL with synchronous=NORMAL: a commit survives a process crash; the WAL is synced
        // at checkpoints. Artifacts are fsynced before the row that names them commits.
        configuration.prepareDatabase { db in
            if !db.configuration.readonly {
                // The writer's page cache holds a bulk import's indexes (SQLite's default is
                // 2 MiB, which 10⁵ datasets' rows outgrow); it is only used as it fills.
                try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536")
            }
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            // A reader of a registry it may not write (a published, read-only copy) cannot
            // create the WAL index SQLite needs: open it as immutable instead, which needs
            // nothing written (Debian's SQLite interprets file: URIs).
            let walIndexMissing = !FileManager.default.fileExists(atPath: path + "-shm")
            guard readOnly, walIndexMissing,
                let immutable = try? DatabasePool(path: Self.immutableURI(path), configuration: configuration)
            else {
                throw ButlerError(
                    .storageFailure, "cannot open the registry database \(path)", cause: SQLiteSession.translate(error, sql: ""))
            }
            pool = immutable
        }
        var readerConfiguration = Configuration()
        readerConfiguration.readonly = true
        readerConfiguration.busyMode = .timeout(busyTimeout)
        // The pool opened the file (and set WAL mode), so the reader finds it as the pool left it.
        fastReader = try? DatabaseQueue(path: pool.path, configuration: readerConfiguration)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ButlerError(.storageFailure, "cannot open the registry database \(path): it disappeared while being opened")
        }
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// The `file:` URI opening `path` read-only and immutable.
    private static func immutableURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?mode=ro&immutable=1"
    }

    /// Refuses a unit of work on a registry file removed or replaced since it was opened.
    private func requireSameFile() throws {
        var info = stat()
        guard stat(path, &info) == 0, UInt64(info.st_dev) == identity.device, UInt64(info.st_ino) == identity.inode else {
            throw ButlerError(
                .storageFailure,
                "the registry database \(path) was removed or replaced while in use; nothing was written (reopen the repository)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try readNow(body)
    }

    func readLatest<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try readLatestNow(body)
    }

    // Reads do not check the file's identity (``requireSameFile()``): an open connection
    // keeps reading the file it opened, so a removed registry cannot be recreated by a read.

    private func readLatestNow<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try translatingErrors {
            if let result = try withFastReader({ db in try body(SQLiteSession(db: db, counter: self.statements)) }) { return result }
            return try pool.unsafeRead { db in try body(SQLiteSession(db: db, counter: self.statements)) }
        }
    }

    /// Runs `work` on the dedicated reader when it is free (nil when it is not, or absent).
    private func withFastReader<T>(_ work: (Database) throws -> T) throws -> T? {
        guard let fastReader, fastReaderBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return nil
        }
        defer { fastReaderBusy.store(false, ordering: .releasing) }
        return try fastReader.inDatabase(work)
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
        try translatingErrors {
            let snapshot = try withFastReader { db in
                // One deferred transaction: every statement of the unit sees the same snapshot.
                try db.beginTransaction(.deferred)
                do {
                    let result = try body(SQLiteSession(db: db, counter: self.statements))
                    try db.commit()
                    return result
                } catch {
                    try? db.rollback()
                    throw error
                }
            }
            if let snapshot { return snapshot }
            return try pool.read { db in try body(SQLiteSession(db: db, counter: self.statements)) }
        }
    }

    private func writeNow<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try requireSameFile()
        return try translatingErrors {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteSession(db: db, counter: self.statements))
                    return .commit
                }
                return result!
            }
        }
    }

    func close() async throws {
        try fastReader?.close()
        try pool.close()
    }
}

/// Statements on one GRDB connection, through its statement cache.
struct SQLiteSession: SQLSession {
    let db: Database
    let counter: SQLStatementCounter
    var dialect: SQLDialect { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        counter.count()
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
        var rows: [SQLRow] = []
        try step(sql, arguments) { handle, columns in
            var values: [SQLValue] = []
            values.reserveCapacity(columns.count)
            for index in columns.indices { values.append(Self.column(handle, Int32(index))) }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRowCursor) throws -> Void) throws {
        var cursor: SQLRowCursor?
        try step(sql, arguments) { handle, _ in
            if cursor == nil {
                cursor = SQLRowCursor(
                    value: { Self.column(handle, Int32($0)) },
                    integer: { sqlite3_column_type(handle, Int32($0)) == SQLITE_INTEGER ? sqlite3_column_int64(handle, Int32($0)) : nil })
            }
            try body(cursor!)
        }
    }

    /// Binds `arguments`, then calls `row` with the statement at each row and the column names.
    private func step(_ sql: String, _ arguments: [SQLValue], _ row: (OpaquePointer?, [String]) throws -> Void) throws {
        counter.count()
        do {
            let statement = try db.cachedStatement(sql: sql)
            // Arguments are bound and rows stepped with the C API on GRDB's prepared statement:
            // GRDB's argument boxing and generic row decoding cost more than the statement
            // itself for a one-row look-up and for thousand-row results.
            let handle = statement.sqliteStatement
            sqlite3_reset(handle)
            try Self.bind(arguments, to: handle, db: db, sql: sql)
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            let columns = statement.columnNames
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw SQLError(
                        engine: "sqlite", message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql,
                        violated: Self.constraint(sqlite3_extended_errcode(db.sqliteConnection)),
                        rolledBackForConcurrency: code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED)
                }
                try row(handle, columns)
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, sql: sql)
        }
    }

    /// Binds `values` to the placeholders of `handle`, in order.
    private static func bind(_ values: [SQLValue], to handle: OpaquePointer?, db: Database, sql: String) throws {
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == values.count else {
            throw SQLError(engine: "sqlite", message: "\(values.count) arguments for \(expected) placeholders", sql: sql)
        }
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let int): code = sqlite3_bind_int64(handle, index, int)
            case .real(let double): code = sqlite3_bind_double(handle, index, double)
            case .text(let text):
                // By length, not NUL-terminated: a text may hold NUL. An empty buffer may have
                // no address, which SQLite would take for NULL.
                var text = text
                code = text.withUTF8 { utf8 in
                    utf8.isEmpty
                        ? sqlite3_bind_text(handle, index, "", 0, transient)
                        : sqlite3_bind_text(handle, index, utf8.baseAddress, Int32(utf8.count), transient)
                }
            case .blob(let bytes):
                code =
                    bytes.isEmpty
                    ? sqlite3_bind_zeroblob(handle, index, 0)
                    : bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
            case .uuid(let uuid):
                code = withUnsafeBytes(of: uuid.uuid) { sqlite3_bind_blob(handle, index, $0.baseAddress, 16, transient) }
            }
            guard code == SQLITE_OK else {
                throw SQLError(engine: "sqlite", message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
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
            violated: constraint(error.extendedResultCode.rawValue),
            rolledBackForConcurrency: error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED)
    }

    /// The constraint an extended result code reports, if any.
    static func constraint(_ extended: Int32) -> SQLError.Constraint? {
        guard extended & 0xFF == SQLITE_CONSTRAINT else { return nil }
        // SQLITE_CONSTRAINT_FOREIGNKEY, _PRIMARYKEY, _UNIQUE and _TRIGGER (macros Swift does
        // not import); the registry's only aborting triggers guard validity ranges.
        switch extended >> 8 {
        case 6, 8: return .unique
        case 3: return .foreignKey
        case 7: return .overlap
        default: return .other
        }
    }
}

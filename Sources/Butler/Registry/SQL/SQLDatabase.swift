import Synchronization

/// Registry statements sent through one database (queries and writes, either engine): what
/// a transfer's or an import's "number of registry queries" counts.
package final class SQLStatementCounter: Sendable {
    private let sent = Atomic<Int>(0)

    package init() {}

    /// Counts one statement.
    func count() { sent.add(1, ordering: .relaxed) }

    /// Statements sent so far.
    var total: Int { sent.load(ordering: .relaxed) }
}

/// One engine's view of a registry database: how to run a unit of work.
///
/// The registry is written once against this protocol. Work is a synchronous closure over a
/// ``SQLSession`` so that SQLite runs it inline on the caller's thread (no hop, DESIGN §3.9),
/// while PostgreSQL runs it on a dedicated thread that waits for each network round trip.
package protocol SQLDatabase: Sendable {
    /// How SQL must be written for this engine.
    var dialect: SQLDialect { get }
    /// Statements sent so far through this database.
    var statements: SQLStatementCounter { get }
    /// The database file, for an embedded engine (nil for a server).
    var localFile: String? { get }
    /// Runs `body` with read-only access to a consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body` without a snapshot transaction: each statement sees the latest committed
    /// state. For look-ups whose statements need not agree with each other (a find, then the
    /// artifact records of what was found) this saves a BEGIN/COMMIT per call on the hot path.
    func readLatest<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body` in one transaction; any error rolls the whole unit back.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Releases connections; the database must not be used afterwards.
    func close() async throws
}

extension SQLDatabase {
    /// ``write(_:)``, run again (up to `attempts` times in all, after a short randomised wait
    /// that doubles each time) when the engine undid it because of concurrent writers
    /// (``SQLError/rolledBackForConcurrency``): the retry of a whole unit of work the issue of
    /// concurrent writers asks for. Only for units whose every effect is in the database — a
    /// unit that also publishes files must not be replayed blindly.
    package func writeRetrying<T: Sendable>(
        attempts: Int = 5, _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        var wait = Duration.milliseconds(10)
        for attempt in 1... {
            do {
                return try await write(body)
            } catch let error as ButlerError
                where attempt < attempts && (error.cause as? SQLError)?.rolledBackForConcurrency == true
            {
                try await Task.sleep(for: wait * Double.random(in: 0.5...1.5))
                wait *= 2
            }
        }
        fatalError("unreachable: the last attempt returns or throws")
    }
}

/// Statements inside one unit of work. Placeholders are written `?` on every engine.
package protocol SQLSession {
    /// The dialect of the engine running this session.
    var dialect: SQLDialect { get }
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs a query and returns all its rows.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a query and hands its rows to `body` one by one as they come, through a cursor
    /// that reads only the columns asked for: a million-row result is neither held whole nor
    /// decoded column by column (an engine without streaming hands out ``query(_:_:)``'s rows).
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRowCursor) throws -> Void) throws
}

/// The row a cursor over materialized rows reads.
private final class CurrentRow {
    var row = SQLRow(columns: [], values: [])
}

/// The current row of ``SQLSession/forEachRow(_:_:_:)``, valid only inside the call it is
/// handed to.
package struct SQLRowCursor {
    private let readValue: (Int) -> SQLValue
    private let readInteger: (Int) -> Int64?

    /// A cursor reading through the given functions (made once per query, not per row).
    package init(value: @escaping (Int) -> SQLValue, integer: @escaping (Int) -> Int64?) {
        readValue = value
        readInteger = integer
    }

    /// The value in column `index` of the select list.
    package subscript(index: Int) -> SQLValue { readValue(index) }

    /// The integer in column `index`, or nil when it holds something else.
    package func integer(_ index: Int) -> Int64? { readInteger(index) }
}

extension SQLSession {
    package func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRowCursor) throws -> Void) throws {
        let current = CurrentRow()
        let cursor = SQLRowCursor(value: { current.row[$0] }, integer: { current.row[$0].int64 })
        for row in try query(sql, arguments) {
            current.row = row
            try body(cursor)
        }
    }

    /// Runs a statement without arguments.
    package func execute(_ sql: String) throws { try execute(sql, []) }

    /// The first row of a query, if any.
    package func queryOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try query(sql, arguments).first
    }
}

/// A statement failed: the engine's own message, the SQL, and the arguments.
package struct SQLError: Error, CustomStringConvertible, Sendable {
    /// `sqlite` or `postgresql`.
    package let engine: String
    /// The engine's message.
    package let message: String
    /// The statement that failed.
    package let sql: String
    /// The kind of constraint a statement violated.
    package enum Constraint: Sendable {
        /// A uniqueness or primary-key constraint.
        case unique
        /// A foreign key (a row referring to one that does not exist, or no longer does).
        case foreignKey
        /// Two validity ranges of one calibration key overlap (PostgreSQL's exclusion
        /// constraint, SQLite's trigger).
        case overlap
        /// Another constraint (NOT NULL, CHECK).
        case other
    }

    /// The constraint the statement violated, if that is why it failed.
    package let violated: Constraint?
    /// True when the failure is a constraint violation of any kind.
    package var isConstraintViolation: Bool { violated != nil }
    /// True when the same unit of work may succeed if run again: a lock held too long, a
    /// serialization failure, a deadlock, a lost connection.
    package let isTransient: Bool

    /// True when the engine undid the whole unit of work because of other writers (a lock
    /// not granted in time, a serialization failure, a deadlock): nothing of it committed,
    /// so running it again is safe. Unlike ``isTransient`` this excludes a lost connection,
    /// after which a COMMIT may or may not have happened.
    package let rolledBackForConcurrency: Bool

    /// Describes a failed statement.
    package init(
        engine: String, message: String, sql: String, violated: Constraint? = nil, isTransient: Bool = false,
        rolledBackForConcurrency: Bool = false
    ) {
        self.engine = engine
        self.message = message
        self.sql = sql
        self.violated = violated
        self.isTransient = isTransient || rolledBackForConcurrency
        self.rolledBackForConcurrency = rolledBackForConcurrency
    }

    package var description: String { sql.isEmpty ? "\(engine): \(message)" : "\(engine): \(message) (in: \(sql))" }

    /// The failure as callers see it: a conflict for a constraint a concurrent writer won, a
    /// (possibly retryable) storage failure otherwise, with this error as the cause.
    package var butlerError: ButlerError {
        if violated == .overlap {
            return ButlerError(
                .conflict, "the registry refused a validity range that overlaps one already certified (a concurrent certify?)",
                cause: self)
        }
        if isConstraintViolation {
            return ButlerError(
                .conflict, "the registry refused a write that conflicts with existing rows (a concurrent writer?)", cause: self)
        }
        return ButlerError(.storageFailure, "a registry statement failed", cause: self, isRetryable: isTransient)
    }
}

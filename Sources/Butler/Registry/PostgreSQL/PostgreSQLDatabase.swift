import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The shared-repository registry engine: PostgreSQL through PostgresNIO's `PostgresClient`.
///
/// The registry's units of work are synchronous closures (so SQLite can run them inline).
/// Here each unit runs on a dedicated dispatch queue, never on Swift's cooperative pool; each
/// statement starts a task on the client and the queue's thread waits for its rows. That wait
/// costs a few microseconds against a network round trip of ≈120 µs (DESIGN §5).
final class PostgreSQLDatabase: SQLDatabase {
    let statements = SQLStatementCounter()
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let queue = DispatchQueue(label: "butler.postgresql", attributes: .concurrent)
    private let readOnly: Bool
    let url: String
    var dialect: SQLDialect { .postgresql }
    var localFile: String? { nil }

    /// Connects to `url` (`postgresql://user[:password]@host[:port]/database`), using
    /// `namespace` as the schema (created if missing unless read-only).
    init(url: String, namespace: String?, readOnly: Bool) async throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ButlerError.configuration("cannot parse the registry database URL '\(url)'")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432,
            username: components.user ?? "postgres", password: components.password,
            database: components.path.isEmpty ? nil : String(components.path.dropFirst()),
            tls: .disable)
        if let namespace {
            configuration.options.additionalStartupParameters = [("search_path", namespace)]
        }
        self.url = url
        self.readOnly = readOnly
        // One connection first, with a bounded connect timeout: an unreachable server is a
        // clear error in seconds, where the client's pool would retry until its circuit
        // breaker trips (a minute) and report only that.
        var probe = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres", password: components.password,
            database: components.path.isEmpty ? nil : String(components.path.dropFirst()), tls: .disable)
        probe.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: Self.logger)
            try await connection.close()
        } catch {
            throw ButlerError(
                .storageFailure, "cannot reach the registry database at \(Self.redacted(url))",
                cause: PostgreSQLSession.translate(error, sql: ""),
                isRetryable: true)
        }
        let client = PostgresClient(configuration: configuration)
        self.client = client
        runTask = Task { await client.run() }
        if let namespace, !readOnly {
            try await write { session in
                try session.execute("CREATE SCHEMA IF NOT EXISTS \(SQLDialect.postgresql.quote(namespace))")
            }
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await unitOfWork(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    func readLatest<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        // Under READ COMMITTED every statement takes its own snapshot even inside a
        // transaction, so BEGIN … COMMIT would add two round trips (half of a get's four)
        // and no consistency: the statements run in autocommit mode instead.
        try await unitOfWork(begin: nil, body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        if readOnly {
            throw ButlerError.readOnly("a write to the registry database")
        }
        return try await unitOfWork(begin: "BEGIN", body)
    }

    /// Runs `body` on one leased connection, inside a transaction opened with `begin` (none
    /// when nil: each statement commits on its own).
    private func unitOfWork<T: Sendable>(
        begin: String?, _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        do {
            return try await leased(begin: begin, body)
        } catch let error as SQLError {
            throw error.butlerError
        } catch let error as PSQLError {
            // Failures outside a statement: the server could not be reached or went away.
            throw ButlerError(
                .storageFailure, "the registry database at \(redactedURL) could not be used",
                cause: PostgreSQLSession.translate(error, sql: ""),
                isRetryable: true)
        }
    }

    /// The URL without its password, for messages.
    private var redactedURL: String { Self.redacted(url) }

    /// `url` without its password.
    private static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    private static let logger = Logger(label: "butler.postgresql")

    private func leased<T: Sendable>(begin: String?, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let session = PostgreSQLSession(connection: connection, counter: self.statements)
            guard let begin else { return try await self.onQueue { try body(session) } }
            try await session.run(begin)
            do {
                let result = try await self.onQueue { try body(session) }
                try await session.run("COMMIT")
                return result
            } catch {
                try? await session.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs blocking work on the dedicated queue and resumes the caller when it finishes.
    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    func close() async throws {
        runTask.cancel()
        await runTask.value
    }
}

/// Statements on one leased connection; each synchronous call waits for its rows.
final class PostgreSQLSession: SQLSession, Sendable {
    let connection: PostgresConnection
    private static let logger = Logger(label: "butler.postgresql")
    /// `?` → `$n` rewrites, cached because the registry's statements are few and repeated.
    private static let rewrites = Mutex<[String: String]>([:])

    init(connection: PostgresConnection, counter: SQLStatementCounter) {
        self.connection = connection
        self.counter = counter
    }

    let counter: SQLStatementCounter

    var dialect: SQLDialect { .postgresql }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try query(sql, arguments)
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        counter.count()
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[SQLRow], any Error>?>(nil)
        let statement = Self.numbered(sql)
        let binds = try Self.bindings(arguments, sql: sql)
        Task {
            let result: Result<[SQLRow], any Error>
            do {
                result = .success(try await self.fetch(statement, binds: binds))
            } catch {
                result = .failure(Self.translate(error, sql: sql))
            }
            outcome.withLock { $0 = result }
            semaphore.signal()
        }
        semaphore.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Runs a statement from async code (transaction control).
    func run(_ sql: String) async throws {
        do { _ = try await fetch(sql, binds: PostgresBindings()) } catch {
            throw Self.translate(error, sql: sql)
        }
    }

    private func fetch(_ sql: String, binds: PostgresBindings) async throws -> [SQLRow] {
        let sequence = try await connection.query(
            PostgresQuery(unsafeSQL: sql, binds: binds), logger: Self.logger)
        var rows: [SQLRow] = []
        var columns: [String]?
        for try await row in sequence {
            var values: [SQLValue] = []
            var names: [String] = []
            for cell in row {
                if columns == nil { names.append(cell.columnName) }
                values.append(try Self.value(cell))
            }
            if columns == nil { columns = names }
            rows.append(SQLRow(columns: columns!, values: values))
        }
        return rows
    }

    private static func numbered(_ sql: String) -> String {
        if let cached = rewrites.withLock({ $0[sql] }) { return cached }
        var result = ""
        var index = 0
        var inString = false
        for character in sql {
            if character == "'" { inString.toggle() }
            if character == "?" && !inString {
                index += 1
                result += "$\(index)"
            } else {
                result.append(character)
            }
        }
        rewrites.withLock { $0[sql] = result }
        return result
    }

    private static func bindings(_ values: [SQLValue], sql: String) throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let int): binds.append(int)
            case .real(let double): binds.append(double)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            case .uuid(let uuid): binds.append(uuid)
            }
        }
        return binds
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8: return .integer(try cell.decode(Int64.self))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float8: return .real(try cell.decode(Double.self))
        case .float4: return .real(Double(try cell.decode(Float.self)))
        case .numeric: return .real(Double(try cell.decode(String.self)) ?? .nan)
        case .uuid: return .uuid(try cell.decode(UUID.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }

    static func translate(_ error: any Error, sql: String) -> SQLError {
        if let error = error as? SQLError { return error }
        if let error = error as? PSQLError {
            let code = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
            // 23505 unique_violation, 23503 foreign_key_violation, 23P01 exclusion_violation
            // (overlapping validity ranges); 40001 serialization
            // failure, 40P01 deadlock, 08… connection exceptions, no code: no server reply.
            return SQLError(
                engine: "postgresql", message: message, sql: sql,
                violated: code == "23505"
                    ? .unique
                    : code == "23503" ? .foreignKey : code == "23P01" ? .overlap : code?.hasPrefix("23") == true ? .other : nil,
                isTransient: code == nil || code?.hasPrefix("08") == true,
                rolledBackForConcurrency: code == "40001" || code == "40P01")
        }
        return SQLError(engine: "postgresql", message: "\(error)", sql: sql)
    }
}

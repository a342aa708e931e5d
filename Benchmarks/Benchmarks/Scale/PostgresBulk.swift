// Filling a PostgreSQL registry with a million datasets: one server-side statement that
// generates the rows a put would write (dataset, tag and artifact record per dataset).
import Butler
import Foundation
import Logging
import PostgresNIO

enum PostgresBulk {
    /// Runs `sql` on the server at `url`.
    static func execute(_ url: String, _ sql: String) async throws {
        try await withClient(url) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// Inserts datasets 1..<count of `metrics` into the repository in `schema`, each with the
    /// data ID of its slot and an artifact record copying `template` (dataset 0's).
    static func fill(_ url: String, schema: String, count: Int, detectors: Int, template: StoredFileInfo) async throws {
        try await withClient(url) { client in
            try await client.withConnection { connection in
                func run(_ sql: String) async throws {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                try await run("SET search_path TO \(schema)")
                let rows = try await connection.query(
                    "SELECT dataset_type_id, tag_table FROM dataset_type WHERE name = 'metrics'", logger: logger)
                var found: (Int64, String)?
                for try await (typeId, tagTable) in rows.decode((Int64, String).self) { found = (typeId, tagTable) }
                guard let (typeId, tagTable) = found else { throw BulkError("no dataset type 'metrics' in schema \(schema)") }
                var runId: Int64?
                for try await id in try await connection.query(
                    "SELECT collection_id FROM collection WHERE name = 'bench'", logger: logger
                ).decode(Int64.self) { runId = id }
                guard let runId else { throw BulkError("no run 'bench' in schema \(schema)") }
                try await run("BEGIN")
                try await run(
                    """
                    WITH slots AS (SELECT slot, gen_random_uuid() AS id FROM generate_series(1, \(count - 1)) AS slot),
                    datasets AS (
                        INSERT INTO dataset (id, dataset_type_id, run_id, ingest_date)
                        SELECT id, \(typeId), \(runId), 0 FROM slots),
                    tags AS (
                        INSERT INTO \(tagTable) (dataset_type_id, collection_id, dataset_id, run_id, instrument, detector, visit)
                        SELECT \(typeId), \(runId), id, \(runId), 'Cam', slot % \(detectors), slot / \(detectors) FROM slots)
                    INSERT INTO file_datastore_records (datastore_name, dataset_id, component, path, formatter, storage_class, file_size, checksum)
                    SELECT 'FileDatastore@<butlerRoot>', id, '', \(literal(template.path)), \(literal(template.formatter)), \(literal(template.storageClass)), \(template.fileSize), NULL
                    FROM slots
                    """)
                try await run("COMMIT")
                try await run("ANALYZE")
            }
        }
    }

    private static let logger = Logger(label: "bench.postgres")

    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A client configuration for `postgresql://user[:password]@host[:port]/database`.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw BulkError("cannot parse PostgreSQL URL '\(url)'")
        }
        return .init(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password,
            database: components.path.isEmpty ? nil : String(components.path.dropFirst()), tls: .disable)
    }

    private static func withClient(_ url: String, _ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(configuration: try configuration(url))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}

struct BulkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

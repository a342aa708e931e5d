import Formatters
package import Foundation

/// The datastore's own tables in the registry database: one record per artifact, and the trash
/// of removed records. Every row carries the name of the datastore that owns it, so that several
/// datastores (a chain) share the tables without a schema change.
extension FileDatastore {
    /// The record table.
    static let recordTable = "file_datastore_records"
    /// The trash table.
    static let trashTable = "file_datastore_trash"
    /// The columns ``record(_:datasetId:)`` decodes, in its order.
    static let recordColumns = ["component", "path", "formatter", "storage_class", "file_size", "checksum"]

    package func createSchema(_ session: any SQLSession) throws {
        let d = session.dialect
        try session.execute(
            """
            CREATE TABLE \(Self.recordTable) (
                datastore_name TEXT NOT NULL,
                dataset_id \(d.uuidType) NOT NULL REFERENCES dataset (id),
                component TEXT NOT NULL,
                path TEXT NOT NULL,
                formatter TEXT NOT NULL,
                storage_class TEXT NOT NULL,
                file_size \(d.bigintType) NOT NULL,
                checksum TEXT,
                PRIMARY KEY (dataset_id, datastore_name, component))
            """)
        try session.execute("CREATE INDEX file_datastore_records_path ON \(Self.recordTable) (path)")
        try session.execute("CREATE INDEX file_datastore_records_checksum ON \(Self.recordTable) (checksum)")
        try session.execute(Self.layoutTableDDL(d, ifNotExists: false))
        // Paths whose records were removed; a file is deleted only once no record names it.
        try session.execute(
            """
            CREATE TABLE \(Self.trashTable) (
                datastore_name TEXT NOT NULL,
                path TEXT NOT NULL,
                owned \(d.bigintType) NOT NULL,
                PRIMARY KEY (datastore_name, path))
            """)
    }

    /// Inserts one record of this datastore, with its artifact's byte layout when it has one.
    func insertRecord(_ record: StoredFileInfo, layout: ByteLayout? = nil, session: any SQLSession) throws {
        try session.execute(
            """
            INSERT INTO \(Self.recordTable) (datastore_name, dataset_id, component, path, formatter, storage_class, file_size, checksum)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(name), .uuid(record.datasetId), .text(record.component), .text(record.path), .text(record.formatter),
                .text(record.storageClass), .integer(record.fileSize), record.checksum.map(SQLValue.text) ?? .null,
            ])
        if let layout { try insertLayout(layout, of: record, session: session) }
    }

    /// Inserts records (without layouts) in multi-row statements.
    func insertRecords(_ records: [StoredFileInfo], session: any SQLSession) throws {
        let rowsPerStatement = 400  // 8 parameters a row, 3200 a statement: within both engines' limits (32766, 65535)
        for start in stride(from: 0, to: records.count, by: rowsPerStatement) {
            let chunk = records[start..<min(records.count, start + rowsPerStatement)]
            try session.execute(
                "INSERT INTO \(Self.recordTable) (datastore_name, dataset_id, component, path, formatter, storage_class, file_size, checksum) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "),
                chunk.flatMap { record -> [SQLValue] in
                    [
                        .text(name), .uuid(record.datasetId), .text(record.component), .text(record.path), .text(record.formatter),
                        .text(record.storageClass), .integer(record.fileSize), record.checksum.map(SQLValue.text) ?? .null,
                    ]
                })
        }
    }

    /// One statement per 400 IDs.
    package func records(_ session: any SQLSession, datasetIds: [UUID]) throws -> [UUID: [StoredFileInfo]] {
        var result: [UUID: [StoredFileInfo]] = [:]
        for start in stride(from: 0, to: datasetIds.count, by: 400) {
            let chunk = datasetIds[start..<min(datasetIds.count, start + 400)]
            for id in chunk { result[id] = [] }
            let rows = try session.query(
                "SELECT dataset_id, " + Self.recordColumns.joined(separator: ", ")
                    + " FROM \(Self.recordTable) WHERE datastore_name = ? AND dataset_id IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
                [.text(name)] + chunk.map(SQLValue.uuid))
            for row in rows {
                guard let id = row.values[0].uuidValue, let record = Self.record(row.values[1...], datasetId: id, datastore: name) else {
                    continue
                }
                result[id, default: []].append(record)
            }
        }
        return result
    }

    package func records(_ session: any SQLSession, datasetId: UUID) throws -> [StoredFileInfo] {
        try session.query(
            "SELECT " + Self.recordColumns.joined(separator: ", ")
                + " FROM \(Self.recordTable) WHERE dataset_id = ? AND datastore_name = ?",
            [.uuid(datasetId), .text(name)]
        ).compactMap { Self.record($0.values[...], datasetId: datasetId, datastore: name) }
    }

    package func records(attached rows: [ArraySlice<SQLValue>], datasetId: UUID) -> [StoredFileInfo] {
        rows.compactMap { Self.record($0, datasetId: datasetId, datastore: name) }
    }

    /// One record from its six columns (component, path, formatter, storage class, size,
    /// checksum); nil for the all-NULL row of a LEFT JOIN that matched nothing.
    private static func record(_ values: ArraySlice<SQLValue>, datasetId: UUID, datastore: String) -> StoredFileInfo? {
        let start = values.startIndex
        guard let path = values[start + 1].string, let formatter = values[start + 2].string,
            let storageClass = values[start + 3].string
        else { return nil }
        return StoredFileInfo(
            datasetId: datasetId, component: values[start].string ?? "", path: path, formatter: formatter,
            storageClass: storageClass, fileSize: values[start + 4].int64 ?? 0, checksum: values[start + 5].string, datastore: datastore)
    }

    package func importRecords(_ session: any SQLSession, _ records: [StoredFileInfo]) throws {
        for record in records {
            _ = try formatter(named: record.formatter)
            guard try storage.size(of: record.path) != nil else {
                throw ButlerError(
                    .missingArtifact,
                    "cannot import the record of dataset \(record.datasetId.uuidString.lowercased()): no artifact at \(record.path) in \(storage.location)"
                )
            }
            try insertRecord(record, session: session)
        }
    }
}

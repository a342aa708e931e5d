package import Formatters
import Foundation
import Logging
import Synchronization

/// Byte layouts of artifacts: where their pixels lie, recorded when they are written so that a
/// cutout or a header component of an artifact on S3 or HTTP fetches only the byte ranges it
/// needs (ARCHITECTURE decision 53). A table of its own, read only by such reads: a get of a
/// whole dataset never loads a layout.
extension FileDatastore {
    /// The layout table (created with the repository; by the first write that records a layout
    /// in a repository made before it existed).
    static let layoutTable = "file_datastore_layouts"

    /// The statement creating the layout table.
    static func layoutTableDDL(_ dialect: SQLDialect, ifNotExists: Bool) -> String {
        """
        CREATE TABLE \(ifNotExists ? "IF NOT EXISTS " : "")\(layoutTable) (
            datastore_name TEXT NOT NULL,
            dataset_id \(dialect.uuidType) NOT NULL,
            component TEXT NOT NULL,
            layout TEXT NOT NULL,
            PRIMARY KEY (dataset_id, datastore_name, component))
        """
    }

    /// The layout of a staged artifact, or nil when the repository records none or its
    /// formatter has none or cannot read it back (a ranged read then learns it from the
    /// headers, or reads the artifact whole: a layout is an optimisation). Every
    /// put records one, on POSIX too: a repository written locally may be served over HTTP
    /// (or copied to S3) and read by range there; reading it back costs a header walk.
    func layout(ofStaged file: String, formatter: any FileFormatter) -> ByteLayout? {
        guard config.recordLayouts != false else { return nil }
        do { return try formatter.byteLayout(of: URL(filePath: file, directoryHint: .notDirectory)) } catch {
            Self.logger.warning("no byte layout for \(file): \(error); reads of it will fetch it whole")
            return nil
        }
    }

    /// Records an artifact's layout inside the caller's transaction.
    func insertLayout(_ layout: ByteLayout, of record: StoredFileInfo, session: any SQLSession) throws {
        if try !hasLayoutTable(session) {
            try session.execute(Self.layoutTableDDL(session.dialect, ifNotExists: true))
            layoutTableKnown.withLock { $0 = true }
        }
        let text = String(decoding: try JSONEncoder().encode(layout), as: UTF8.self)
        try session.execute(
            """
            INSERT INTO \(Self.layoutTable) (datastore_name, dataset_id, component, layout) VALUES (?, ?, ?, ?)
            ON CONFLICT (dataset_id, datastore_name, component) DO UPDATE SET layout = excluded.layout
            """,
            [.text(name), .uuid(record.datasetId), .text(record.component), .text(text)])
    }

    /// Removes the layouts of a dataset's artifacts (with its records).
    func deleteLayouts(datasetId: UUID, session: any SQLSession) throws {
        guard try hasLayoutTable(session) else { return }
        try session.execute("DELETE FROM \(Self.layoutTable) WHERE dataset_id = ? AND datastore_name = ?", [.uuid(datasetId), .text(name)])
    }

    private func hasLayoutTable(_ session: any SQLSession) throws -> Bool {
        if layoutTableKnown.withLock({ $0 }) { return true }
        let exists = try !session.query(session.dialect.tableExistsQuery, [.text(Self.layoutTable)]).isEmpty
        if exists { layoutTableKnown.withLock { $0 = true } }
        return exists
    }

    package var transferStatistics: RemoteTransferStatistics { storage.transferStatistics }

    package func readsInPart(_ records: [StoredFileInfo], component: String?, parameters: ReadParameters) -> Bool {
        guard storage.readsByRange, config.verifyChecksums != true, records.count == 1, let record = records.first,
            record.component.isEmpty, !record.isExternal, let formatter = try? formatter(named: record.formatter)
        else { return false }
        return formatter.partialNeed(component: component, parameters: parameters) != nil
    }

    package func withLayouts(_ session: any SQLSession, _ records: [StoredFileInfo]) throws -> [StoredFileInfo] {
        guard storage.readsByRange, let first = records.first, try hasLayoutTable(session) else { return records }
        var layouts: [String: ByteLayout] = [:]
        for row in try session.query(
            "SELECT component, layout FROM \(Self.layoutTable) WHERE dataset_id = ? AND datastore_name = ?",
            [.uuid(first.datasetId), .text(name)])
        {
            guard let component = row[0].string, let text = row[1].string,
                let layout = try? JSONDecoder().decode(ByteLayout.self, from: Data(text.utf8))
            else { continue }
            layouts[component] = layout
        }
        return records.map { record in
            var record = record
            record.layout = layouts[record.component]
            return record
        }
    }
}

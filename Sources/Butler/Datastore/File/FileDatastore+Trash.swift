package import Foundation

/// Two-phase removal and retrieval: records move to the trash inside the registry transaction;
/// emptying the trash deletes an artifact only once no record names it (composites share
/// component artifacts) and only when the datastore owns it (files ingested in place are never
/// deleted).
extension FileDatastore {
    package func trash(_ session: any SQLSession, datasetIds: [UUID]) throws {
        for id in datasetIds {
            for info in try records(session, datasetId: id) {
                try session.execute(
                    "INSERT INTO \(Self.trashTable) (datastore_name, path, owned) VALUES (?, ?, ?) ON CONFLICT (datastore_name, path) DO NOTHING",
                    [.text(name), .text(info.path), .integer(info.isExternal ? 0 : 1)])
            }
            try session.execute("DELETE FROM \(Self.recordTable) WHERE dataset_id = ? AND datastore_name = ?", [.uuid(id), .text(name)])
        }
    }

    package func emptyTrash(_ session: any SQLSession) throws -> [String] {
        var removed: [String] = []
        for row in try session.query("SELECT path, owned FROM \(Self.trashTable) WHERE datastore_name = ?", [.text(name)]) {
            guard let path = row[0].string else { continue }
            let stillUsed = try !session.query(
                "SELECT 1 FROM \(Self.recordTable) WHERE path = ? AND datastore_name = ? LIMIT 1", [.text(path), .text(name)]
            ).isEmpty
            if !stillUsed && row[1].int64 == 1 {
                try storage.delete(path)
                removed.append(path)
            }
            try session.execute("DELETE FROM \(Self.trashTable) WHERE datastore_name = ? AND path = ?", [.text(name), .text(path)])
        }
        return removed
    }

    package func retrieveArtifacts(
        _ ref: DatasetRef, records: [StoredFileInfo], to destination: URL, preservePath: Bool, overwrite: Bool
    ) throws -> [URL] {
        var written: [URL] = []
        for record in records {
            let name = record.isExternal || !preservePath ? String(record.path.split(separator: "/").last ?? "") : record.path
            let target = destination.appendingPathComponent(name)
            do { try storage.retrieve(record.path, to: target, overwrite: overwrite) } catch let error as ButlerError {
                throw ButlerError(error.code, "cannot retrieve \(record.path) of \(ref) into \(destination.path)", cause: error)
            }
            written.append(target)
        }
        return written
    }
}

package import Foundation
import Logging

/// Two-phase removal and retrieval: records move to the trash inside the registry transaction;
/// emptying the trash deletes an artifact only once no record names it (composites share
/// component artifacts) and only when the datastore owns it (files ingested in place are never
/// deleted).
extension FileDatastore {
    static let logger = Logger(label: "butler.datastore")

    package func trash(_ session: any SQLSession, datasetIds: [UUID]) throws {
        for id in datasetIds {
            for info in try records(session, datasetId: id) {
                try session.execute(
                    "INSERT INTO \(Self.trashTable) (datastore_name, path, owned) VALUES (?, ?, ?) ON CONFLICT (datastore_name, path) DO NOTHING",
                    [.text(name), .text(info.path), .integer(info.isExternal ? 0 : 1)])
            }
            try session.execute("DELETE FROM \(Self.recordTable) WHERE dataset_id = ? AND datastore_name = ?", [.uuid(id), .text(name)])
            try deleteLayouts(datasetId: id, session: session)
        }
    }

    package func emptyTrash(_ session: any SQLSession, progress: ProgressCounter?) throws -> [String] {
        var removed: [String] = []
        let paths = try session.query("SELECT path FROM \(Self.trashTable) WHERE datastore_name = ? ORDER BY path", [.text(name)])
        progress?.addToTotal(paths.count)
        for row in paths {
            defer { progress?.advance() }
            guard let path = row[0].string else { continue }
            // A put publishing at this path, or sharing it, holds the same lock: it either
            // committed its record first (seen below, so the file stays) or waits until the
            // file is deleted and publishes afterwards. Paths are locked in order, as puts do.
            try lockArtifactPath(path, session: session)
            guard
                let owned = try session.query(
                    "DELETE FROM \(Self.trashTable) WHERE datastore_name = ? AND path = ? RETURNING owned", [.text(name), .text(path)]
                ).first?[0].int64
            else { continue }
            let stillUsed = try !session.query(
                "SELECT 1 FROM \(Self.recordTable) WHERE path = ? AND datastore_name = ? LIMIT 1", [.text(path), .text(name)]
            ).isEmpty
            if !stillUsed && owned == 1 {
                do {
                    try storage.delete(path)
                    removed.append(path)
                } catch let error as ButlerError where error.code == .storageFailure && !error.isRetryable {
                    // A path the storage refuses (it climbs out of the root, or crosses a link
                    // planted in it) is not ours to delete; one such row must not keep the
                    // rest of the trash from being emptied.
                    Self.logger.warning("not deleting trashed artifact \(path): \(error)")
                }
            }
        }
        return removed
    }

    /// Locks an artifact path until the caller's transaction ends, so that publishing or
    /// sharing an artifact and deleting it from the trash never interleave between processes
    /// (a PostgreSQL advisory lock; SQLite serializes write transactions anyway).
    package func lockArtifactPath(_ path: String, session: any SQLSession) throws {
        guard let lock = session.dialect.transactionLockQuery else { return }
        _ = try session.query(lock, [.text(name + "|" + path)])
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

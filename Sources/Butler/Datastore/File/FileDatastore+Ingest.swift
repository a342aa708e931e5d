import Formatters
package import Foundation

/// Ingest: existing files become artifacts by copy, move, link or in place. Nothing the user
/// owns changes before the registry commits: a move removes its source only in `finish`.
extension FileDatastore {
    package func prepareIngest(
        _ file: URL, for ref: DatasetRef, formatter formatterName: String?, transfer: TransferMode
    ) throws -> any DatastoreWrite {
        let source = file.standardizedFileURL.path
        let formatter: any FileFormatter
        if let formatterName {
            formatter = try self.formatter(named: formatterName)
        } else if let configured = config.formatters[ref.datasetType.name] {
            formatter = try self.formatter(named: configured.formatter)
        } else {
            do { formatter = try formatters.formatter(forExtension: file.pathExtension) } catch {
                throw ButlerError.configuration("cannot ingest \(source) as \(ref)", cause: error)
            }
        }
        let ext = file.pathExtension.isEmpty ? "" : "." + file.pathExtension
        if transfer == .direct {
            guard let size = try storage.size(of: source) else {
                throw ButlerError(.missingArtifact, "cannot ingest \(source) as \(ref): no such file")
            }
            guard try storage.isRegularFile(source) else {
                throw ButlerError(.storageFailure, "cannot ingest \(source) as \(ref): it is not a regular file")
            }
            let record = StoredFileInfo(
                datasetId: ref.id, component: "", path: source, formatter: formatter.name,
                storageClass: ref.datasetType.storageClassName, fileSize: size, checksum: try config.checksum.checksum(ofFileAt: source))
            return Write(datastore: self, artifacts: [StagedRecord(record: record, staged: nil)])
        }
        let relative = try relativePath(for: ref, component: nil, extension: ext)
        let staged: StagedArtifact
        do { staged = try storage.stage(relative, from: source, transfer: transfer) } catch let error as ButlerError {
            throw ButlerError(error.code, "cannot \(transfer.rawValue) \(source) into the repository as \(ref)", cause: error)
        }
        do {
            let size = try storage.seal(staged)
            let record = StoredFileInfo(
                datasetId: ref.id, component: "", path: relative, formatter: formatter.name,
                storageClass: ref.datasetType.storageClassName, fileSize: size,
                checksum: try config.checksum.checksum(ofFileAt: staged.localFile))
            // A copy is synced like a put; a symbolic link's bytes are the user's file.
            var artifact = stagedRecord(record, staged, syncsBytes: transfer != .symlink)
            // Raw ingest is the bulk path: a layout only where ranged reads will use it.
            if storage.readsByRange { artifact.layout = layout(ofStaged: staged.localFile, formatter: formatter) }
            return Write(datastore: self, artifacts: [artifact])
        } catch {
            storage.discard(staged)
            throw error
        }
    }
}

import Formatters
package import Foundation

/// Ingest: existing files become artifacts by copy, move, link or in place. Nothing the user
/// owns changes before the registry commits: a move removes its source only in `finish`.
extension FileDatastore {
    package func prepareIngest(
        _ file: URL, for ref: DatasetRef, formatter formatterName: String?, transfer: TransferMode, known: KnownArtifact?
    ) throws -> any DatastoreWrite {
        let source = Self.standardizedPath(file)
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
        if transfer == .direct {
            let size: Int64
            do {
                guard let found = try storage.regularFileSize(of: source) else {
                    throw ButlerError(.missingArtifact, "cannot ingest \(source) as \(ref): no such file")
                }
                size = found
            } catch let error as ButlerError where error.code != .missingArtifact {
                throw ButlerError(error.code, "cannot ingest \(source) as \(ref)", cause: error)
            }
            let record = StoredFileInfo(
                datasetId: ref.id, component: "", path: source, formatter: formatter.name,
                storageClass: ref.datasetType.storageClassName, fileSize: size,
                checksum: try checksum(of: source, size: size, known: known, ref: ref))
            return Write(datastore: self, artifacts: [StagedRecord(record: record, staged: nil)])
        }
        let pathExtension = file.pathExtension
        let relative = try relativePath(for: ref, component: nil, extension: pathExtension.isEmpty ? "" : "." + pathExtension)
        let staged: StagedArtifact
        do { staged = try storage.stage(relative, from: source, transfer: transfer) } catch let error as ButlerError {
            throw ButlerError(error.code, "cannot \(transfer.rawValue) \(source) into the repository as \(ref)", cause: error)
        }
        do {
            let size = try storage.seal(staged)
            let record = StoredFileInfo(
                datasetId: ref.id, component: "", path: relative, formatter: formatter.name,
                storageClass: ref.datasetType.storageClassName, fileSize: size,
                checksum: try checksum(of: staged.localFile, size: size, known: known, ref: ref, source: source))
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

    /// The checksum to record for an ingested file of `size` bytes: an export's, when it
    /// recorded one by this datastore's algorithm (the file is not read again), else computed.
    /// - Throws: ``ButlerError/Code/conflict`` when the file's size is not the one the export
    ///   recorded (a truncated or replaced artifact).
    private func checksum(of path: String, size: Int64, known: KnownArtifact?, ref: DatasetRef, source: String? = nil) throws -> String? {
        if let known {
            guard known.size == size else {
                throw ButlerError(
                    .conflict, "cannot ingest \(source ?? path) as \(ref): it is \(size) bytes, but its export recorded \(known.size)")
            }
            if let recorded = known.checksum, ChecksumAlgorithm.of(recorded: recorded) == config.checksum { return recorded }
        }
        return try config.checksum.checksum(ofFileAt: path)
    }

    /// `file`'s path with `.`, `..` and repeated slashes resolved: as Foundation's
    /// `standardizedFileURL`, which is only asked when the path has any (a bulk import's
    /// paths seldom do, and Foundation's costs microseconds per file).
    static func standardizedPath(_ file: URL) -> String {
        let path = file.path
        // One pass over the bytes (String.contains(String) goes through Foundation's search):
        // a component that is empty, `.` or `..` needs Foundation's rules.
        var bytes = path.utf8.makeIterator()
        guard bytes.next() == UInt8(ascii: "/") else { return file.standardizedFileURL.path }
        var component = 0  // bytes of the current component
        var dots = 0  // of which dots
        while true {
            let byte = bytes.next()
            if byte == nil || byte == UInt8(ascii: "/") {
                if component == 0 || (dots == component && dots <= 2) { return file.standardizedFileURL.path }
                if byte == nil { break }
                (component, dots) = (0, 0)
            } else {
                component += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return path
    }
}

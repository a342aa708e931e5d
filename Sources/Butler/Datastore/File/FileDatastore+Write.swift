package import Composites
import Formatters
import Foundation
import Logging
import Synchronization

/// Writing: artifacts are staged before the registry transaction and synced as a batch (one
/// barrier), then recorded and published inside it, their names synced before it commits.
extension FileDatastore {
    /// One artifact staged for a dataset, waiting for its registry transaction.
    struct StagedRecord: Sendable {
        /// What will be recorded (its path is the staged artifact's).
        let record: StoredFileInfo
        /// The staged bytes, or nil for a file ingested in place (`direct`).
        let staged: StagedArtifact?
        /// What killed writers left in the directory the artifact goes to, found while staging
        /// (outside the transaction) and resolved by the commit.
        var leftovers: [StagingLeftover] = []
        /// Whether the staged bytes are synced before the commit (not for a symbolic link to
        /// the user's file: its bytes are the user's).
        var syncsBytes = true
        /// Where its pixels lie, for ranged reads of a remote artifact.
        var layout: ByteLayout?
    }

    /// A staged artifact with the leftovers of killed writers beside it, the first time this
    /// process writes to its directory.
    func stagedRecord(_ record: StoredFileInfo, _ staged: StagedArtifact, syncsBytes: Bool = true) -> StagedRecord {
        StagedRecord(record: record, staged: staged, leftovers: storage.leftovers(besides: staged.path), syncsBytes: syncsBytes)
    }

    package func makeDurable(_ writes: [any DatastoreWrite]) throws {
        guard config.fsync else { return }
        try storage.sync(
            writes.compactMap { $0 as? Write }.flatMap(\.artifacts).filter(\.syncsBytes).compactMap(\.staged))
    }

    package func makePublicationDurable(_ writes: [any DatastoreWrite]) throws {
        guard config.fsync else { return }
        try storage.syncNames(of: writes.compactMap { $0 as? Write }.flatMap(\.publishedPaths))
    }

    /// The artifacts of one dataset between staging and commit.
    final class Write: DatastoreWrite {
        let datastore: FileDatastore
        let artifacts: [StagedRecord]
        /// The paths this write published, to remove if the transaction fails afterwards.
        private let published = Mutex<[String]>([])

        init(datastore: FileDatastore, artifacts: [StagedRecord]) {
            self.datastore = datastore
            self.artifacts = artifacts
        }

        /// Notes a path published by a batched commit, to remove if the transaction fails.
        func notePublished(_ path: String) { published.withLock { $0.append(path) } }

        func commit(_ session: any SQLSession) throws {
            try datastore.resolve(artifacts.flatMap(\.leftovers), session: session)
            // In path order, as the trash is emptied: two transactions taking path locks in
            // one order cannot deadlock.
            for artifact in artifacts.sorted(by: { $0.record.path < $1.record.path }) {
                if let path = try datastore.commit(artifact, session: session) { published.withLock { $0.append(path) } }
            }
        }

        var records: [StoredFileInfo] { artifacts.map(\.record) }

        /// The paths this write has published so far.
        var publishedPaths: [String] { published.withLock { $0 } }

        func abandon() {
            for case let staged? in artifacts.map(\.staged) { datastore.storage.discard(staged) }
            for path in published.withLock({ $0 }) { try? datastore.storage.delete(path) }
        }

        func finish() {
            for case let staged? in artifacts.map(\.staged) { datastore.storage.finish(staged) }
        }
    }

    /// Writes of whole artifacts with no killed writer's leftovers beside them and no byte
    /// layout (imports, transfers) are committed together: their records in multi-row
    /// statements, their paths held and taken out of the trash in batches, then each staged
    /// file published. Every other write commits as it would alone.
    package func commit(_ writes: [any DatastoreWrite], session: any SQLSession) throws {
        var batch: [Write] = []
        for write in writes {
            if let write = write as? Write, write.datastore === self,
                write.artifacts.allSatisfy({ $0.leftovers.isEmpty && $0.layout == nil && $0.record.component.isEmpty })
            {
                batch.append(write)
            } else {
                try write.commit(session)
            }
        }
        let artifacts = batch.flatMap { write in write.artifacts.map { (write, $0) } }
        try insertRecords(artifacts.map(\.1.record), session: session)
        let staged = artifacts.compactMap { write, artifact in artifact.staged.map { (write, artifact, $0) } }
            .sorted { $0.2.path < $1.2.path }
        let rowsPerStatement = 400
        for start in stride(from: 0, to: staged.count, by: rowsPerStatement) {
            let chunk = staged[start..<min(staged.count, start + rowsPerStatement)]
            // The paths in order, as single writes take them: no two transactions deadlock.
            if let locks = session.dialect.transactionLocksQuery(count: chunk.count) {
                _ = try session.query(locks, chunk.map { .text(name + "|" + $0.2.path) })
            }
            try session.execute(
                "DELETE FROM \(Self.trashTable) WHERE datastore_name = ? AND path IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
                [.text(name)] + chunk.map { .text($0.2.path) })
        }
        for (write, artifact, file) in staged {
            try publish(file, of: artifact.record, session: session)
            write.notePublished(file.path)
        }
    }

    package func prepare(_ value: any Sendable, for ref: DatasetRef, storageClass: StorageClass) throws -> any DatastoreWrite {
        guard isDisassembled(ref.datasetType), let assembler = storageClass.assembler else {
            let (formatter, ext) = try formatterChoice(for: ref.datasetType)
            return Write(
                datastore: self,
                artifacts: [
                    try stage(value, ref: ref, component: nil, storageClass: storageClass, formatter: formatter, extension: ext)
                ])
        }
        // Disassembled: one artifact per stored component, each with its own formatter.
        let parts: [String: any Sendable]
        do { parts = try assembler.disassemble(value) } catch {
            throw ButlerError.typeMismatch("cannot disassemble \(ref)", cause: error)
        }
        var staged: [StagedRecord] = []
        do {
            for (component, part) in parts.sorted(by: { $0.key < $1.key }) {
                guard let className = storageClass.components[component] else {
                    throw ButlerError.typeMismatch(
                        "\(ref): the assembler of \(storageClass.name) gave component '\(component)', which the storage class does not declare"
                    )
                }
                let componentClass = try storageClasses.storageClass(named: className)
                let (formatter, ext) = try formatterChoice(names: ["\(ref.datasetType.name).\(component)", className])
                staged.append(
                    try stage(part, ref: ref, component: component, storageClass: componentClass, formatter: formatter, extension: ext))
            }
        } catch {
            Write(datastore: self, artifacts: staged).abandon()
            throw error
        }
        return Write(datastore: self, artifacts: staged)
    }

    /// Writes one artifact under a staged name and syncs it.
    private func stage(
        _ value: any Sendable, ref: DatasetRef, component: String?, storageClass: StorageClass, formatter: any FileFormatter,
        extension ext: String
    ) throws -> StagedRecord {
        let relative = try relativePath(for: ref, component: component, extension: ext)
        let staged = try storage.stage(relative)
        let what = "\(ref)\(component.map { " component \($0)" } ?? "")"
        do {
            try formatter.write(value, storageClass: storageClass, to: URL(filePath: staged.localFile, directoryHint: .notDirectory))
        } catch {
            storage.discard(staged)
            let code: ButlerError.Code = (error as? any FileFormatError)?.kind == .typeMismatch ? .typeMismatch : .storageFailure
            throw ButlerError(code, "could not write \(what) to \(relative)", cause: error)
        }
        do {
            let size = try storage.seal(staged)
            let record = StoredFileInfo(
                datasetId: ref.id, component: component ?? "", path: relative, formatter: formatter.name,
                storageClass: storageClass.name, fileSize: size, checksum: try config.checksum.checksum(ofFileAt: staged.localFile))
            var result = stagedRecord(record, staged)
            result.layout = layout(ofStaged: staged.localFile, formatter: formatter)
            return result
        } catch {
            storage.discard(staged)
            throw error
        }
    }

    /// Records an artifact and publishes it, inside the caller's transaction; returns the path
    /// it published (nil when it published nothing new).
    func commit(_ artifact: StagedRecord, session: any SQLSession) throws -> String? {
        if let shared = try identicalComponentArtifact(artifact.record, session: session) {
            // The same component bytes are stored already (a visitInfo or PSF shared by many
            // disassembled datasets): point at them. Removal keeps a file while any record
            // names it.
            try insertRecord(artifact.record.at(path: shared), layout: artifact.layout, session: session)
            if let staged = artifact.staged { storage.discard(staged) }
            return nil
        }
        try insertRecord(artifact.record, layout: artifact.layout, session: session)
        guard let staged = artifact.staged else { return nil }
        // Hold the path against a concurrent emptying of the trash, and take it out of the
        // trash: the file published here must not be deleted as the old one's leftover.
        try lockArtifactPath(staged.path, session: session)
        try session.execute("DELETE FROM \(Self.trashTable) WHERE datastore_name = ? AND path = ?", [.text(name), .text(staged.path)])
        try publish(staged, of: artifact.record, session: session)
        return staged.path
    }

    /// Publishes a staged artifact whose record is inserted and whose path is held, replacing
    /// a file a crash left there without a record — never one another dataset's record names.
    private func publish(_ staged: StagedArtifact, of record: StoredFileInfo, session: any SQLSession) throws {
        if try !storage.publish(staged, replacing: false) {
            // A file without a record can only be left by a crash between publication and
            // commit; one with a record belongs to another dataset and must not be touched.
            let owners = try session.query(
                "SELECT dataset_id FROM \(Self.recordTable) WHERE path = ? AND dataset_id <> ?",
                [.text(record.path), .uuid(record.datasetId)])
            guard owners.isEmpty else {
                throw ButlerError(
                    .conflict,
                    "artifact path \(record.path) is already used by dataset \(owners[0][0].uuidValue?.uuidString.lowercased() ?? "?"); the file template does not give unique paths"
                )
            }
            _ = try storage.publish(staged, replacing: true)
        }
    }

    /// Removes what killed writers left: each staged file, and the final name it was
    /// published at when no record names that path — its writer died between publication and
    /// commit. The path is held as a put holds it, so a live writer committing there is seen.
    func resolve(_ leftovers: [StagingLeftover], session: any SQLSession) throws {
        for leftover in leftovers.sorted(by: { $0.staged < $1.staged }) {
            if let published = leftover.published, try deleteIfUnrecorded(published, session: session) {
                Self.logger.info("removed \(published): published by a writer killed before its registry commit")
            }
            try storage.delete(leftover.staged)
        }
    }

    /// Deletes the artifact at `path` unless a record names it, holding the path as a put
    /// holds it (a put publishing there is either seen committed or waits); returns whether it
    /// deleted.
    func deleteIfUnrecorded(_ path: String, session: any SQLSession) throws -> Bool {
        try lockArtifactPath(path, session: session)
        let named = try !session.query(
            "SELECT 1 FROM \(Self.recordTable) WHERE path = ? AND datastore_name = ? LIMIT 1", [.text(path), .text(name)]
        ).isEmpty
        if named { return false }
        try storage.delete(path)
        return true
    }

    /// The path of an owned component artifact with the same bytes (checksum, size, formatter,
    /// storage class) as `record`, if one exists.
    private func identicalComponentArtifact(_ record: StoredFileInfo, session: any SQLSession) throws -> String? {
        guard !record.component.isEmpty, let checksum = record.checksum, !record.isExternal else { return nil }
        let rows = try session.query(
            """
            SELECT path FROM \(Self.recordTable)
            WHERE checksum = ? AND file_size = ? AND formatter = ? AND storage_class = ? AND component <> ''
              AND datastore_name = ? AND path NOT LIKE '/%'
            LIMIT 1
            """, [.text(checksum), .integer(record.fileSize), .text(record.formatter), .text(record.storageClass), .text(name)])
        guard let path = rows.first?[0].string else { return nil }
        // The record naming it may be on its way to the trash: hold the path, then check that
        // an emptier did not delete the file before we got it.
        try lockArtifactPath(path, session: session)
        guard try storage.size(of: path) != nil else { return nil }
        return path
    }
}

package import Composites
package import Formatters
package import Foundation

/// Several datastores as one (daf_butler's `ChainedDatastore`): a put goes to **every** member
/// whose constraints accept the dataset (so one put can write FITS to one and HDF5 to
/// another, or keep intermediates on local disk and products on S3), a get reads from the first
/// member in chain order that has the dataset — the next one when its artifact is missing — and
/// a removal removes from all. Every record carries its member's name in the shared record
/// table, so the registry says which member holds what.
///
/// Concurrency: shared by every task of a Butler; members are.
package struct ChainedDatastore: Datastore {
    /// One member and what it accepts.
    package struct Member: Sendable {
        /// The member.
        package let datastore: FileDatastore
        /// Which datasets it stores.
        package let constraints: RepositoryConfig.Constraints
    }

    package let name: String
    /// The members, in chain order.
    package let members: [Member]
    private let storageClasses: StorageClassRegistry
    package let recordsAttachment: AttachedTable

    /// A chain of `members`.
    /// - Throws: ``ButlerError/Code/configuration`` for an empty chain or two members with one
    ///   name.
    package init(name: String, members: [Member], storageClasses: StorageClassRegistry) throws {
        guard !members.isEmpty else { throw ButlerError(.configuration, "datastore.chain lists no datastore") }
        let names = members.map(\.datastore.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ButlerError(.configuration, "datastore.chain names '\(duplicate)' twice; each member needs a name of its own")
        }
        self.name = name
        self.members = members
        self.storageClasses = storageClasses
        // Every member's rows, with the name saying whose.
        recordsAttachment = AttachedTable(
            table: FileDatastore.recordTable, datasetIdColumn: "dataset_id", columns: ["datastore_name"] + FileDatastore.recordColumns)
    }

    package func createSchema(_ session: any SQLSession) throws {
        // The members share the record and trash tables.
        try members[0].datastore.createSchema(session)
    }

    // MARK: Writing

    package func configurationProblems(for datasetType: DatasetType) -> [String] {
        do { return try accepting(datasetType).flatMap { $0.datastore.configurationProblems(for: datasetType) } } catch {
            return ["\(error)"]
        }
    }

    /// The members accepting a dataset of `datasetType`, in chain order.
    private func accepting(_ datasetType: DatasetType) throws -> [Member] {
        var classes = [datasetType.storageClassName]
        if let base = try? storageClasses.storageClass(named: datasetType.storageClassName).basedOn { classes.append(base) }
        let chosen = members.filter { $0.constraints.accepts(datasetType: datasetType.name, storageClasses: classes) }
        guard !chosen.isEmpty else {
            throw ButlerError(
                .configuration,
                "no datastore of the chain (\(members.map(\.datastore.name).joined(separator: ", "))) accepts dataset type \(datasetType.name) (\(datasetType.storageClassName)); see datastore.chain constraints"
            )
        }
        return chosen
    }

    /// The writes of one dataset to each accepting member.
    final class Write: DatastoreWrite {
        let parts: [(member: String, write: any DatastoreWrite)]

        init(parts: [(member: String, write: any DatastoreWrite)]) { self.parts = parts }

        var records: [StoredFileInfo] { parts.flatMap(\.write.records) }

        func commit(_ session: any SQLSession) throws {
            for part in parts { try part.write.commit(session) }
        }
        func abandon() {
            for part in parts { part.write.abandon() }
        }
        func finish() {
            for part in parts { part.write.finish() }
        }
    }

    /// Prepares a write in each member, abandoning those made when one fails.
    private func prepareEach(_ chosen: [Member], _ body: (Int, FileDatastore) throws -> any DatastoreWrite) throws -> any DatastoreWrite {
        var parts: [(member: String, write: any DatastoreWrite)] = []
        do {
            for (index, member) in chosen.enumerated() { parts.append((member.datastore.name, try body(index, member.datastore))) }
        } catch {
            for part in parts { part.write.abandon() }
            throw error
        }
        return Write(parts: parts)
    }

    package func prepare(_ value: any Sendable, for ref: DatasetRef, storageClass: StorageClass) throws -> any DatastoreWrite {
        try prepareEach(try accepting(ref.datasetType)) { _, member in try member.prepare(value, for: ref, storageClass: storageClass) }
    }

    package func prepareIngest(
        _ file: URL, for ref: DatasetRef, formatter: String?, transfer: TransferMode, known: KnownArtifact?
    ) throws -> any DatastoreWrite {
        let chosen = try accepting(ref.datasetType)
        // A move into several members copies into all but the last, which moves.
        return try prepareEach(chosen) { index, member in
            let mode = transfer == .move && index < chosen.count - 1 ? .copy : transfer
            return try member.prepareIngest(file, for: ref, formatter: formatter, transfer: mode, known: known)
        }
    }

    /// The parts of `writes` that `member` prepared.
    private func parts(of writes: [any DatastoreWrite], for member: FileDatastore) -> [any DatastoreWrite] {
        writes.compactMap { $0 as? Write }.flatMap { $0.parts.filter { $0.member == member.name }.map(\.write) }
    }

    package func makeDurable(_ writes: [any DatastoreWrite]) throws {
        for member in members { try member.datastore.makeDurable(parts(of: writes, for: member.datastore)) }
    }

    package func makePublicationDurable(_ writes: [any DatastoreWrite]) throws {
        for member in members { try member.datastore.makePublicationDurable(parts(of: writes, for: member.datastore)) }
    }

    // MARK: Records

    package func records(attached rows: [ArraySlice<SQLValue>], datasetId: UUID) -> [StoredFileInfo] {
        rows.flatMap { row -> [StoredFileInfo] in
            guard let owner = row.first?.string, let member = members.first(where: { $0.datastore.name == owner }) else { return [] }
            return member.datastore.records(attached: [row.dropFirst()], datasetId: datasetId)
        }
    }

    package func records(_ session: any SQLSession, datasetId: UUID) throws -> [StoredFileInfo] {
        try members.flatMap { try $0.datastore.records(session, datasetId: datasetId) }
    }

    package func importRecords(_ session: any SQLSession, _ records: [StoredFileInfo]) throws {
        // Each record to the member it names; one naming none to the first.
        let byMember = Dictionary(grouping: records) { $0.datastore ?? members[0].datastore.name }
        if let stray = byMember.keys.first(where: { name in !members.contains { $0.datastore.name == name } }) {
            throw ButlerError(
                .configuration,
                "cannot import the record of dataset \(byMember[stray]![0].datasetId.uuidString.lowercased()): no datastore of the chain is named \(stray)"
            )
        }
        for member in members {
            if let mine = byMember[member.datastore.name] { try member.datastore.importRecords(session, mine) }
        }
    }

    // MARK: Reading

    /// The members holding records among `records`, in chain order, each with its own.
    private func holders(_ records: [StoredFileInfo]) -> [(FileDatastore, [StoredFileInfo])] {
        members.compactMap { member in
            let mine = records.filter { $0.datastore == member.datastore.name }
            return mine.isEmpty ? nil : (member.datastore, mine)
        }
    }

    package var transferStatistics: RemoteTransferStatistics {
        let all = members.map(\.datastore.transferStatistics)
        return RemoteTransferStatistics(requests: all.map(\.requests).reduce(0, +), bytesReceived: all.map(\.bytesReceived).reduce(0, +))
    }

    package func readsInPart(_ records: [StoredFileInfo], component: String?, parameters: ReadParameters) -> Bool {
        holders(records).contains { member, mine in member.readsInPart(mine, component: component, parameters: parameters) }
    }

    package func withLayouts(_ session: any SQLSession, _ records: [StoredFileInfo]) throws -> [StoredFileInfo] {
        var result: [StoredFileInfo] = []
        for (member, mine) in holders(records) { result += try member.withLayouts(session, mine) }
        return result
    }

    /// Reads from the first member holding the dataset, the next when its artifact is missing.
    private func firstReadable<R>(
        _ ref: DatasetRef, _ records: [StoredFileInfo], _ read: (FileDatastore, [StoredFileInfo]) throws -> R
    ) throws -> R {
        let holders = holders(records)
        guard !holders.isEmpty else {
            throw ButlerError(
                .missingArtifact, "\(ref) is registered but has no stored artifact in any datastore of the chain (was it unstored?)")
        }
        var missing: ButlerError?
        for (member, mine) in holders {
            do { return try read(member, mine) } catch let error as ButlerError where error.code == .missingArtifact {
                missing = missing ?? error
            }
        }
        throw missing!
    }

    package func read(
        _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, component: String?, parameters: ReadParameters
    ) throws -> any Sendable {
        try firstReadable(ref, records) { member, mine in
            try member.read(ref, records: mine, storageClass: storageClass, component: component, parameters: parameters)
        }
    }

    package func read<T>(
        _ type: T.Type, _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        try firstReadable(ref, records) { member, mine in
            try member.read(type, ref, records: mine, storageClass: storageClass, parameters: parameters)
        }
    }

    package func exists(_ records: [StoredFileInfo]) throws -> Bool {
        for (member, mine) in holders(records) where try member.exists(mine) { return true }
        return false
    }

    package func urls(_ records: [StoredFileInfo]) throws -> [URL] {
        try holders(records).flatMap { member, mine in try member.urls(mine) }
    }

    package func retrieveArtifacts(
        _ ref: DatasetRef, records: [StoredFileInfo], to destination: URL, preservePath: Bool, overwrite: Bool
    ) throws -> [URL] {
        try firstReadable(ref, records) { member, mine in
            try member.retrieveArtifacts(ref, records: mine, to: destination, preservePath: preservePath, overwrite: overwrite)
        }
    }

    // MARK: Verification: each member on its own; paths in the report carry the member's location

    package func verificationInputs(_ session: any SQLSession) throws -> VerificationInputs {
        var inputs = VerificationInputs(records: [], trashed: [])
        for member in members { inputs.members[member.datastore.name] = try member.datastore.verificationInputs(session) }
        return inputs
    }

    /// A report path as `<member location>/<path>`, so that a user sees which storage and a
    /// repair finds the member again.
    private static func qualified(_ member: FileDatastore, _ path: String) -> String { member.storage.location + "/" + path }

    package func verify(
        _ inputs: VerificationInputs, checksums: Bool, excluding repositoryFiles: Set<String>, progress: ProgressCounter?
    ) throws -> VerificationReport {
        var report = VerificationReport()
        for member in members {
            guard let mine = inputs.members[member.datastore.name] else { continue }
            let part = try member.datastore.verify(mine, checksums: checksums, excluding: repositoryFiles, progress: progress)
            report.checked += part.checked
            report.missing += part.missing.map {
                .init(datasetId: $0.datasetId, path: Self.qualified(member.datastore, $0.path), reason: $0.reason)
            }
            report.corrupt += part.corrupt.map {
                .init(datasetId: $0.datasetId, path: Self.qualified(member.datastore, $0.path), reason: $0.reason)
            }
            report.orphans += part.orphans.map { Self.qualified(member.datastore, $0) }
            report.leftovers += part.leftovers.map { Self.qualified(member.datastore, $0) }
        }
        return report
    }

    package func repair(_ session: any SQLSession, _ report: VerificationReport) throws -> [String] {
        var removed: [String] = []
        for member in members {
            let prefix = member.datastore.storage.location + "/"
            func mine(_ paths: [String]) -> [String] { paths.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } }
            var part = VerificationReport()
            part.orphans = mine(report.orphans)
            part.leftovers = mine(report.leftovers)
            guard !part.orphans.isEmpty || !part.leftovers.isEmpty else { continue }
            removed += try member.datastore.repair(session, part).map { Self.qualified(member.datastore, $0) }
        }
        return removed
    }

    // MARK: Removal

    package func trash(_ session: any SQLSession, datasetIds: [UUID]) throws {
        for member in members { try member.datastore.trash(session, datasetIds: datasetIds) }
    }

    package func emptyTrash(_ session: any SQLSession, progress: ProgressCounter?) throws -> [String] {
        try members.flatMap { member in
            try member.datastore.emptyTrash(session, progress: progress).map { Self.qualified(member.datastore, $0) }
        }
    }
}

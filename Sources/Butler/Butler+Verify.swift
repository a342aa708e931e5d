/// Verification: every artifact against its record, and what killed writers left behind.
extension Butler {
    /// Checks every artifact of the repository against its record (exists, size, and the
    /// checksum unless `checksums` is false), and finds files a killed writer left: staged
    /// files never published, and published files whose transaction never committed (both only
    /// when older than ten minutes, so a write in progress is never touched). With `repair`,
    /// those files are removed; artifacts that are missing or corrupt are reported, not changed.
    public func verify(checksums: Bool = true, repair: Bool = false) async throws -> VerificationReport {
        if repair { try requireWriteable("verify --repair") }
        let registry = self.registry
        let datastore = self.datastore
        let inputs = try await registry.database.read { session in try datastore.verificationInputs(session) }
        let repositoryFiles = DatastoreConfiguration.repositoryFiles(config, root: root, database: registry.database.localFile)
        var report = try datastore.verify(
            inputs, checksums: checksums, excluding: repositoryFiles, progress: ProgressCounter("verify", total: nil))
        if repair && !(report.orphans.isEmpty && report.leftovers.isEmpty) {
            let found = report
            report.removed = try await registry.database.write { session in try datastore.repair(session, found) }
        }
        return report
    }
}

extension Butler {
    /// What keeps the repository's configuration from storing datasets of its registered
    /// dataset types (those matching `datasetTypes`, all when empty) — an unknown storage
    /// class, no formatter, a file template that cannot give unique paths, no chain member
    /// accepting the type — as sentences naming the type (daf_butler's `config-validate`).
    public func configurationProblems(datasetTypes: [String] = []) async throws -> [String] {
        try await self.datasetTypes(matching: datasetTypes).flatMap { datastore.configurationProblems(for: $0) }
    }
}

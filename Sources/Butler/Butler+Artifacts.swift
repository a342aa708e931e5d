public import Foundation

/// What the datastore holds for datasets: records, locations, copies.
extension Butler {
    /// What the datastore recorded about a dataset's artifacts: path, formatter, size, checksum.
    public func artifactRecords(_ ref: DatasetRef) async throws -> [StoredFileInfo] {
        try await located(ref).records
    }

    /// The locations of a dataset's artifacts (daf_butler's `getURIs`).
    public func artifactURLs(_ ref: DatasetRef) async throws -> [URL] {
        try datastore.urls(try await located(ref).records)
    }

    /// Copies the artifacts of `refs` into `destination`, keeping their paths relative to the
    /// datastore root (or flat with `preservePath: false`). Returns the files written.
    public func retrieveArtifacts(
        _ refs: [DatasetRef], destination: URL, preservePath: Bool = true, overwrite: Bool = false
    ) async throws -> [URL] {
        var written: [URL] = []
        for ref in refs {
            let located = try await located(ref)
            written += try datastore.retrieveArtifacts(
                ref, records: located.records, to: destination, preservePath: preservePath, overwrite: overwrite)
        }
        return written
    }

    /// The dataset with this ID, if it exists.
    public func dataset(id: UUID) async throws -> DatasetRef? {
        let registry = self.registry
        return try await registry.database.read { session in try registry.dataset(session, id: id) }
    }

    /// Runs `body` with the datastore and a registry session inside one write unit of work: the
    /// seam as the datastore conformance suite reaches it.
    package func withDatastore<T: Sendable>(_ body: @escaping @Sendable (any Datastore, any SQLSession) throws -> T) async throws -> T {
        try requireWriteable("datastore access")
        let datastore = self.datastore
        return try await registry.database.write { session in try body(datastore, session) }
    }
}

import Foundation

extension Butler {
    /// Copies datasets from another repository into this one, keeping their IDs (daf_butler's
    /// `transfer_from`, `butler transfer-datasets`): the datasets of `datasetTypes` (all when
    /// empty) found in `collections` of `source` matching `where`, with their RUN collections
    /// and artifacts (between any two datastores: POSIX, S3, HTTP as a source). Datasets this
    /// repository already has (same ID and dataset) are skipped; all or nothing otherwise.
    /// - Parameters:
    ///   - registerDatasetTypes: Register dataset types this repository lacks (otherwise a
    ///     missing one is an error naming it).
    ///   - transferDimensions: Bring the dimension records the data IDs need (otherwise they
    ///     must exist here).
    ///   - transfer: `copy`, `hardlink`, `symlink` or `direct` (`move` would take files out
    ///     of the source repository and is refused).
    @discardableResult
    public func transfer(
        from source: Butler, datasetTypes: [String] = [], collections: [String]? = nil, where expression: String? = nil,
        findFirst: Bool = false, transfer: TransferMode = .copy, registerDatasetTypes: Bool = false, transferDimensions: Bool = false
    ) async throws -> ImportSummary {
        try requireWriteable("transfer-datasets from \(source.root.path)")
        guard transfer != .move else {
            throw ButlerError(
                .invalidParameter, "transfer-datasets cannot move artifacts out of \(source.root.path); use copy, hardlink or symlink")
        }
        var (export, datasets) = try await source.exportContents(
            collections: collections, where: expression, datasetTypes: datasetTypes, findFirst: findFirst)
        // As daf_butler's transfer: the datasets and their runs, not other collections.
        export.collections = export.collections.filter { $0.type == .run }
        export.associations = []
        if !transferDimensions { export.dimensions = [] }
        if !registerDatasetTypes {
            let known = Set(try await self.datasetTypes().map(\.name))
            if let missing = Set(datasets.map(\.ref.datasetType.name)).subtracting(known).sorted().first {
                throw ButlerError(
                    .missingDatasetType,
                    "dataset type \(missing) is not registered in \(root.path) (pass registerDatasetTypes / --register-dataset-types)")
            }
        }
        // Artifacts are read where they are when local; remote ones are fetched first.
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("butler-transfer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        var paths: [UUID: String] = [:]
        for (ref, record) in datasets { paths[ref.id] = try source.localArtifactPath(ref, record, staging: staging) }
        export.setPaths { paths[$0]! }
        return try await importContents(
            export, directory: URL(fileURLWithPath: "/"), source: "transfer from \(source.root.path)", transfer: transfer,
            operation: "transfer")
    }

    /// Where a dataset's one artifact can be read as a local file: its own path on POSIX
    /// storage, else a copy fetched from remote storage under `staging`.
    func localArtifactPath(_ ref: DatasetRef, _ record: StoredFileInfo, staging: URL) throws -> String {
        if let url = try datastore.urls([record]).first, url.isFileURL { return url.path }
        guard
            let fetched = try datastore.retrieveArtifacts(
                ref, records: [record], to: staging.appendingPathComponent(ref.id.uuidString), preservePath: false, overwrite: false
            )
            .first
        else {
            throw ButlerError(.missingArtifact, "\(ref) in \(root.path) has no artifact to copy")
        }
        return fetched.path
    }
}

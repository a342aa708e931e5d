extension Butler {
    /// Deletes RUN collections with all their datasets and artifacts.
    /// - Parameter unlinkFromChains: Also remove the runs from CHAINED collections that list
    ///   them; otherwise such a run is an error naming the chains.
    /// - Returns: The number of datasets removed.
    @discardableResult
    public func removeRuns(_ names: [String], unlinkFromChains: Bool = false) async throws -> Int {
        try requireWriteable("remove-runs \(names.joined(separator: " "))")
        let registry = self.registry
        let datastore = self.datastore
        let removed = try await registry.database.write { session -> Int in
            var count = 0
            for name in names {
                let record = try registry.collection(session, named: name)
                guard record.type == .run else {
                    throw ButlerError.collection("'\(name)' is \(record.type.rawValue), not a RUN collection")
                }
                let parents = try registry.parentChains(session, of: record)
                if !parents.isEmpty && !unlinkFromChains {
                    throw ButlerError.collection(
                        "run '\(name)' is a child of chained collections \(parents); unlink it first or force removal")
                }
                let ids = try registry.datasetIds(session, inRun: record)
                try datastore.trash(session, datasetIds: ids)
                try registry.deleteDatasets(session, ids: ids)
                try registry.removeCollection(session, record)
                count += ids.count
            }
            return count
        }
        try await emptyTrash()
        return removed
    }

    /// Removes a CHAINED or TAGGED collection (not its datasets).
    public func removeCollection(_ name: String) async throws {
        try requireWriteable("remove collection \(name)")
        let registry = self.registry
        try await registry.database.write { session in
            let record = try registry.collection(session, named: name)
            guard record.type != .run else {
                throw ButlerError.collection("'\(name)' is a RUN; use removeRuns to delete it with its datasets")
            }
            try registry.removeCollection(session, record)
        }
    }

    /// Removes datasets from TAGGED collections, the datastore, or the repository.
    /// - Parameters:
    ///   - refs: The datasets.
    ///   - disassociateFrom: TAGGED collections to remove them from.
    ///   - unstore: Delete their artifacts (registry entries stay).
    ///   - purge: Delete them entirely (artifacts, registry entries, every association).
    public func pruneDatasets(
        _ refs: [DatasetRef], disassociateFrom tags: [String] = [], unstore: Bool = false, purge: Bool = false
    ) async throws {
        try requireWriteable("prune-datasets")
        let registry = self.registry
        let datastore = self.datastore
        let ids = refs.map(\.id)
        try await registry.database.write { session in
            for tag in tags { try registry.disassociate(session, tag: tag, refs: refs) }
            if unstore || purge { try datastore.trash(session, datasetIds: ids) }
            if purge { try registry.deleteDatasets(session, ids: ids) }
        }
        if unstore || purge { try await emptyTrash() }
    }

    /// Deletes artifacts whose records were removed and that no other dataset uses; returns
    /// their paths. Removal calls this itself; call it again after an interrupted removal.
    @discardableResult
    public func emptyTrash() async throws -> [String] {
        try requireWriteable("empty trash")
        let datastore = self.datastore
        let progress = ProgressCounter("remove", total: nil)
        return try await registry.database.write { session in try datastore.emptyTrash(session, progress: progress) }
    }
}

import Composites
import Foundation

/// Writing datasets: the artifact is prepared (written and synced where nobody reads it) before
/// the registry transaction and published inside it.
extension Butler {
    /// Stores `value` as a new dataset and returns its reference.
    ///
    /// The artifact is written under a temporary name, synced, and linked into place in the
    /// same transaction that registers the dataset: on any failure neither exists.
    /// - Parameters:
    ///   - value: The in-memory dataset (any value the dataset type's formatter can write).
    ///   - datasetType: A registered dataset type name.
    ///   - dataId: Values for the type's required dimensions (implied ones are looked up).
    ///   - run: The RUN collection (created if missing); the Butler's default run if nil.
    ///   - idGenerationMode: How the dataset ID is chosen.
    ///   - ifExists: What to do when the run holds a dataset of the type and data ID: refuse,
    ///     keep it when identical, or replace it (``ExistingDatasetPolicy``).
    ///   - extendRun: Whether a run that exists already may be written to (the default, as
    ///     daf_butler's `put`); false refuses it, as pipetask refuses an existing output run
    ///     without `--extend-run`.
    /// - Throws: ``ButlerError/Code/conflict`` naming the existing dataset, or the run.
    @discardableResult
    public func put<T: Sendable>(
        _ value: T, _ datasetType: String, dataId: DataId, run: String? = nil,
        idGenerationMode: DatasetIdGenerationMode = .unique, ifExists: ExistingDatasetPolicy = .fail, extendRun: Bool = true
    ) async throws -> DatasetRef {
        try requireWriteable("put of \(datasetType) \(DimensionUniverse.render(dataId))")
        guard let run = run ?? defaultRun else {
            throw ButlerError.collection(
                "put of \(datasetType) \(DimensionUniverse.render(dataId)): no run given and the Butler has no default run")
        }
        if !extendRun { try await requireNewRun(run, for: "put of \(datasetType) \(DimensionUniverse.render(dataId))") }
        let (typeRecord, ref) = try await resolveNewRef(datasetType, dataId: dataId, run: run, mode: idGenerationMode)
        let storageClass = try storageClasses.storageClass(named: typeRecord.datasetType.storageClassName)
        let fields = try fieldValues(of: value, ref: ref, storageClass: storageClass)
        // A fitted WCS moves the detector on the sky: its region changes with the put.
        let regionUpdate = try await detectorRegionUpdate(for: value, ref: ref)
        let write = try datastore.prepare(value, for: ref, storageClass: storageClass)
        let staged = write.records
        if ifExists == .skipIdentical, let existing = try await existingDataset(like: ref, typeRecord) {
            write.abandon()
            return try Self.requireIdentical(existing, staged: staged, new: ref)
        }
        do {
            try await commit(
                [(ref, typeRecord, write)], fieldValues: fields.map { [ref.id: $0] } ?? [:], regionUpdates: regionUpdate.map { [$0] } ?? [],
                replacing: ifExists == .replace)
        } catch let error as ButlerError where ifExists == .skipIdentical && error.code == .conflict {
            // Another writer put it between the look-up and the commit.
            guard let existing = try await existingDataset(like: ref, typeRecord) else { throw error }
            return try Self.requireIdentical(existing, staged: staged, new: ref)
        }
        return ref
    }

    /// Writes once or compares (for provenance and configuration datasets written by every
    /// process of a run): stores `value` when the run has no dataset of the type and data ID;
    /// returns the existing one when its bytes are the same as `value` would be written;
    /// refuses otherwise, naming both checksums. Safe when several processes race: the losers
    /// compare against the winner's.
    @discardableResult
    public func putOrCompare<T: Sendable>(_ value: T, _ datasetType: String, dataId: DataId, run: String? = nil) async throws -> DatasetRef
    {
        try await put(value, datasetType, dataId: dataId, run: run, ifExists: .skipIdentical)
    }

    /// Refuses a run that exists already (`extendRun: false`, `--no-extend-run`).
    /// - Throws: ``ButlerError/Code/conflict`` naming the run and what would have written to it.
    func requireNewRun(_ run: String, for operation: String) async throws {
        let registry = self.registry
        guard try await registry.database.readLatest({ session in try registry.findCollection(session, named: run) }) != nil else { return }
        throw ButlerError(
            .conflict, "\(operation): run \(run) exists already; extend it (--extend-run, extendRun: true) or choose a new run")
    }

    /// The dataset of `ref`'s type and data ID already in its run (with its artifact
    /// records), or the dataset with its ID; nil when neither exists.
    func existingDataset(like ref: DatasetRef, _ typeRecord: DatasetTypeRecord) async throws -> (DatasetRef, [StoredFileInfo])? {
        let registry = self.registry
        let datastore = self.datastore
        return try await registry.database.readLatest { session in
            var found = try registry.dataset(session, id: ref.id)
            if found == nil, let run = try registry.findCollection(session, named: ref.run) {
                found = try registry.find(session, typeRecord, ref.dataId, in: [run])
            }
            guard let found else { return nil }
            return (found, try datastore.records(session, datasetId: found.id))
        }
    }

    /// The existing dataset when its artifacts hold the bytes `staged` would (compared by
    /// checksum, component by component).
    /// - Throws: ``ButlerError/Code/conflict`` naming the dataset and both checksums when they
    ///   differ, or when either side has no checksum to compare.
    static func requireIdentical(
        _ existing: (DatasetRef, [StoredFileInfo]), staged: [StoredFileInfo], new ref: DatasetRef
    ) throws -> DatasetRef {
        let (found, records) = existing
        func sums(_ records: [StoredFileInfo]) -> [String: Set<String>] {
            Dictionary(grouping: records, by: \.component).mapValues { Set($0.map { $0.checksum ?? "" }) }
        }
        let (old, new) = (sums(records), sums(staged))
        let comparable = !old.values.contains { $0.contains("") } && !new.values.contains { $0.contains("") }
        guard comparable, found.datasetType.name == ref.datasetType.name, found.run == ref.run else {
            throw ButlerError(
                .conflict,
                "\(found) already exists and cannot be compared with the new \(ref.datasetType.name) (no checksums recorded, or another dataset has this ID)"
            )
        }
        guard old == new else {
            let show = { (sums: [String: Set<String>]) in
                sums.keys.sorted().map { "\($0.isEmpty ? "" : $0 + ": ")\(sums[$0]!.sorted().joined(separator: " "))" }.joined(
                    separator: ", ")
            }
            throw ButlerError(
                .conflict, "\(found) already exists with different contents: its checksum is \(show(old)), the new one's \(show(new))")
        }
        return found
    }

    /// Stores many datasets in one registry transaction, all or none, with one durability
    /// barrier for the batch instead of one per dataset (a batch of 100 small datasets costs a
    /// few single puts).
    ///
    /// Every artifact is written under a temporary name first; their bytes are synced
    /// together, then the datasets are registered and the artifacts linked into place in one
    /// transaction, whose names are synced before it commits. On any failure — a data ID taken,
    /// also twice in the batch — none of the datasets exists and no file stays.
    /// - Parameters:
    ///   - datasets: What to store: value, dataset type and data ID of each.
    ///   - run: The RUN collection (created if missing); the Butler's default run if nil.
    ///   - idGenerationMode: How the dataset IDs are chosen.
    /// - Returns: The new references, in the order of `datasets`.
    /// - Throws: ``ButlerError/Code/conflict`` naming an existing dataset.
    @discardableResult
    public func put(
        contentsOf datasets: [DatasetToPut], run: String? = nil, idGenerationMode: DatasetIdGenerationMode = .unique
    ) async throws -> [DatasetRef] {
        guard let first = datasets.first else { return [] }
        try requireWriteable("put of \(datasets.count) datasets (\(first.datasetType) …)")
        guard let run = run ?? defaultRun else {
            throw ButlerError.collection("put of \(datasets.count) datasets: no run given and the Butler has no default run")
        }
        var items: [(DatasetRef, DatasetTypeRecord, any DatastoreWrite)] = []
        var fields: [UUID: [String: JSONValue]] = [:]
        var regionUpdates: [DetectorRegionUpdate] = []
        do {
            for dataset in datasets {
                let (typeRecord, ref) = try await resolveNewRef(
                    dataset.datasetType, dataId: dataset.dataId, run: run, mode: idGenerationMode)
                let storageClass = try storageClasses.storageClass(named: typeRecord.datasetType.storageClassName)
                fields[ref.id] = try fieldValues(of: dataset.value, ref: ref, storageClass: storageClass)
                if let update = try await detectorRegionUpdate(for: dataset.value, ref: ref) { regionUpdates.append(update) }
                items.append((ref, typeRecord, try datastore.prepare(dataset.value, for: ref, storageClass: storageClass)))
            }
        } catch {
            for (_, _, write) in items { write.abandon() }
            throw error
        }
        try await commit(items, fieldValues: fields, regionUpdates: regionUpdates)
        return items.map(\.0)
    }

    /// Standardises and expands a data ID and makes the new ref (creating the run if needed).
    func resolveNewRef(
        _ datasetType: String, dataId: DataId, run: String, mode: DatasetIdGenerationMode
    ) async throws -> (DatasetTypeRecord, DatasetRef) {
        let registry = self.registry
        let universe = self.universe
        let (typeRecord, expanded, runExists) = try await registry.database.readLatest { session in
            let typeRecord = try registry.datasetTypeRecord(session, named: datasetType)
            let context = "\(datasetType) data ID"
            let coordinate = try universe.standardize(dataId, for: typeRecord.datasetType.dimensions, context: context)
            let expanded = try registry.expand(session, coordinate, context: context)
            return (typeRecord, expanded, try registry.findCollection(session, named: run) != nil)
        }
        if !runExists {
            try await registry.database.writeRetrying { session in _ = try registry.registerCollection(session, run, type: .run) }
        }
        let id = DatasetIdFactory.makeId(datasetType: datasetType, dataId: expanded, run: run, mode: mode)
        return (typeRecord, DatasetRef(id: id, datasetType: typeRecord.datasetType, dataId: expanded, run: run))
    }

    /// Registers datasets and their prepared artifacts in one transaction, or none of them.
    /// Durability has one barrier per batch, not per dataset: the staged bytes of all items are
    /// synced before the transaction, and the names published inside it are synced before it
    /// commits.
    /// Declared field values go in the same transaction (``fieldValues`` by dataset ID).
    ///
    /// When `replacing`, datasets of the items' types and data IDs already in their runs are
    /// removed first, in a transaction of their own, and their files deleted — with the new
    /// artifacts already staged, so that a value that cannot be written never costs the old
    /// dataset. Not one transaction: the new artifact usually goes to the old one's path, and
    /// publishing over a file whose record a failed transaction would bring back could leave
    /// that record naming the new bytes.
    func commit(
        _ items: [(DatasetRef, DatasetTypeRecord, any DatastoreWrite)], fieldValues: [UUID: [String: JSONValue]] = [:],
        regionUpdates: [DetectorRegionUpdate] = [], replacing: Bool = false
    ) async throws {
        let registry = self.registry
        let datastore = self.datastore
        let writes = items.map(\.2)
        do {
            if replacing {
                let removed = try await registry.database.write { session in
                    var removed: [UUID] = []
                    for (ref, typeRecord, _) in items {
                        guard let run = try registry.findCollection(session, named: ref.run),
                            let old = try registry.find(session, typeRecord, ref.dataId, in: [run])
                        else { continue }
                        removed.append(old.id)
                    }
                    try datastore.trash(session, datasetIds: removed)
                    try registry.deleteDatasets(session, ids: removed)
                    return removed
                }
                if !removed.isEmpty { try await emptyTrash() }
            }
            try datastore.makeDurable(writes)
            try await registry.database.write { session in
                for (ref, typeRecord, write) in items {
                    try registry.insertDataset(session, ref, type: typeRecord)
                    if let values = fieldValues[ref.id] {
                        try registry.setFieldValues(session, typeRecord, datasetId: ref.id, values: values)
                    }
                    try write.commit(session)
                }
                for update in regionUpdates { try registry.apply(update, session) }
                try datastore.makePublicationDurable(writes)
            }
        } catch {
            for (_, _, write) in items { write.abandon() }
            throw error
        }
        for (_, _, write) in items { write.finish() }
    }

    /// The declared field values of a dataset about to be put (nil when its type has none).
    func fieldValues(of value: any Sendable, ref: DatasetRef, storageClass: StorageClass) throws -> [String: JSONValue]? {
        guard !ref.datasetType.fields.isEmpty else { return nil }
        return try DatasetFieldExtractor(storageClasses: storageClasses).values(
            of: ref.datasetType.fields, in: value, storageClass: storageClass, context: "put of \(ref)")
    }
}

import Composites
public import Formatters
public import Foundation

extension Butler {
    // MARK: Dataset types

    /// Registers a dataset type; an identical existing definition is accepted.
    /// - Returns: The definition as stored (dimensions expanded to their required closure).
    /// - Throws: ``ButlerError/datasetTypeConflict(existing:new:)`` showing both definitions.
    @discardableResult
    public func registerDatasetType(
        _ name: String, dimensions: [String], storageClass: String, isCalibration: Bool = false
    ) async throws -> DatasetType {
        try requireWriteable("register dataset type \(name)")
        _ = try storageClasses.storageClass(named: storageClass)
        let datasetType = DatasetType(
            name: name, dimensions: try universe.group(dimensions), storageClass: storageClass, isCalibration: isCalibration)
        let registry = self.registry
        try await registry.database.write { session in _ = try registry.registerDatasetType(session, datasetType) }
        return datasetType
    }

    /// The dataset type called `name`.
    public func datasetType(_ name: String) async throws -> DatasetType {
        let registry = self.registry
        return try await registry.database.read { session in try registry.datasetTypeRecord(session, named: name)!.datasetType }
    }

    /// Dataset types whose names match any of the glob `patterns` (all when empty).
    public func datasetTypes(matching patterns: [String] = []) async throws -> [DatasetType] {
        let registry = self.registry
        return try await registry.database.read { session in try registry.datasetTypes(session, matching: patterns) }
    }

    /// Removes a dataset type that has no datasets.
    public func removeDatasetType(_ name: String) async throws {
        try requireWriteable("remove dataset type \(name)")
        let registry = self.registry
        try await registry.database.write { session in try registry.removeDatasetType(session, name) }
    }

    // MARK: Put

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
    /// - Throws: ``ButlerError/datasetExists(_:)`` naming the existing dataset.
    @discardableResult
    public func put<T: Sendable>(
        _ value: T, _ datasetType: String, dataId: DataId, run: String? = nil,
        idGenerationMode: DatasetIdGenerationMode = .unique
    ) async throws -> DatasetRef {
        try requireWriteable("put of \(datasetType) \(DimensionUniverse.render(dataId))")
        guard let run = run ?? defaultRun else {
            throw ButlerError.collection("put of \(datasetType) \(DimensionUniverse.render(dataId)): no run given and the Butler has no default run")
        }
        let (typeRecord, ref) = try await resolveNewRef(datasetType, dataId: dataId, run: run, mode: idGenerationMode)
        let storageClass = try storageClasses.storageClass(named: typeRecord.datasetType.storageClassName)
        let artifact = try datastore.prepare(value, ref: ref, storageClass: storageClass)
        try await commit([(ref, typeRecord, artifact)])
        return ref
    }

    /// Standardises and expands a data ID and makes the new ref (creating the run if needed).
    func resolveNewRef(
        _ datasetType: String, dataId: DataId, run: String, mode: DatasetIdGenerationMode
    ) async throws -> (DatasetTypeRecord, DatasetRef) {
        let registry = self.registry
        let universe = self.universe
        let (typeRecord, expanded, runExists) = try await registry.database.readLatest { session in
            let typeRecord = try registry.datasetTypeRecord(session, named: datasetType)!
            let context = "\(datasetType) data ID"
            let coordinate = try universe.standardize(dataId, for: typeRecord.datasetType.dimensions, context: context)
            let expanded = try registry.expand(session, coordinate, context: context)
            return (typeRecord, expanded, try registry.collection(session, named: run, required: false) != nil)
        }
        if !runExists {
            try await registry.database.write { session in _ = try registry.registerCollection(session, run, type: .run) }
        }
        let id = DatasetIdFactory.makeId(datasetType: datasetType, dataId: expanded, run: run, mode: mode)
        return (typeRecord, DatasetRef(id: id, datasetType: typeRecord.datasetType, dataId: expanded, run: run))
    }

    /// Registers datasets and their prepared artifacts in one transaction, or none of them.
    func commit(_ items: [(DatasetRef, DatasetTypeRecord, FileDatastore.PreparedArtifact)]) async throws {
        let registry = self.registry
        let datastore = self.datastore
        do {
            try await registry.database.write { session in
                for (ref, typeRecord, artifact) in items {
                    try registry.insertDataset(session, ref, type: typeRecord)
                    try datastore.commit(artifact, session: session)
                }
            }
        } catch {
            for (_, _, artifact) in items { datastore.abandon(artifact) }
            throw error
        }
        for (_, _, artifact) in items { datastore.finish(artifact) }
    }

    // MARK: Find and get

    /// The dataset of `datasetType` and `dataId` found first along `collections`, or nil.
    public func findDataset(_ datasetType: String, dataId: DataId, collections: [String]? = nil) async throws -> DatasetRef? {
        let path = try searchCollections(collections, for: "findDataset(\(datasetType))")
        return try await locate(datasetType, dataId: dataId, collections: path, required: false)?.ref
    }

    /// Finds a dataset and its artifact records in one registry access.
    func locate(_ datasetType: String, dataId: DataId, collections: [String], required: Bool) async throws -> Located? {
        let registry = self.registry
        let universe = self.universe
        let datastore = self.datastore
        return try await registry.database.readLatest { session -> Located? in
            let typeRecord = try registry.datasetTypeRecord(session, named: datasetType)!
            let coordinate = try universe.standardize(
                dataId, for: typeRecord.datasetType.dimensions, context: "\(datasetType) data ID")
            let path = try registry.searchPath(session, collections)
            guard let ref = try registry.find(session, typeRecord, coordinate, in: path) else {
                if required {
                    throw ButlerError.datasetNotFound(
                        "\(datasetType)@\(coordinate) is not in collections \(collections) (searched \(path.map(\.name)))")
                }
                return nil
            }
            return Located(ref: ref, records: try datastore.records(session, datasetId: ref.id))
        }
    }

    struct Located: Sendable {
        let ref: DatasetRef
        let records: [StoredFileInfo]
    }

    /// Reads the dataset of `datasetType` and `dataId` found first along `collections`, as its
    /// storage class's in-memory type. A component is read with `parent.component`
    /// (`calexp.wcs`, `calexp.bbox`): only the part of the artifact that holds it is read.
    /// - Throws: ``ButlerError/datasetNotFound(_:)`` naming the data ID and collections.
    public func get(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, parameters: ReadParameters = [:]
    ) async throws -> any Sendable {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (parent, component) = try await splitComponent(datasetType)
        let located = try await locate(parent, dataId: dataId, collections: path, required: true)!
        return try read(located, component: component, parameters: parameters)
    }

    /// Reads a dataset (or `parent.component`) as `T` (e.g. a `Codable` struct written as
    /// JSON, `Data` for bytes, `Wcs` for `calexp.wcs`).
    /// - Throws: ``ButlerError/typeMismatch(_:)`` when the dataset cannot be read as `T`.
    public func get<T: Sendable>(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, parameters: ReadParameters = [:],
        as type: T.Type
    ) async throws -> T {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (parent, component) = try await splitComponent(datasetType)
        let located = try await locate(parent, dataId: dataId, collections: path, required: true)!
        if let component {
            return try cast(try read(located, component: component, parameters: parameters), located, component)
        }
        return try read(located, parameters: parameters, as: type)
    }

    /// Reads the dataset `ref` refers to, or one of its components.
    public func get(_ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:]) async throws -> any Sendable {
        try read(try await located(ref), component: component, parameters: parameters)
    }

    /// Reads the dataset `ref` refers to (or one of its components) as `T`.
    public func get<T: Sendable>(
        _ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:], as type: T.Type
    ) async throws -> T {
        let located = try await located(ref)
        if let component {
            return try cast(try read(located, component: component, parameters: parameters), located, component)
        }
        return try read(located, parameters: parameters, as: type)
    }

    /// `(parent, component)` for a `parent.component` name whose full name is not itself a
    /// registered dataset type; `(name, nil)` otherwise.
    private func splitComponent(_ name: String) async throws -> (String, String?) {
        guard let dot = name.firstIndex(of: ".") else { return (name, nil) }
        let registry = self.registry
        let standalone = try await registry.database.readLatest { session in
            try registry.datasetTypeRecord(session, named: name, required: false) != nil
        }
        if standalone { return (name, nil) }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    private func cast<T>(_ value: any Sendable, _ located: Located, _ component: String) throws -> T {
        guard let typed = value as? T else {
            throw ButlerError.typeMismatch("component \(component) of \(located.ref) is \(Swift.type(of: value)), not \(T.self)")
        }
        return typed
    }

    private func located(_ ref: DatasetRef) async throws -> Located {
        let datastore = self.datastore
        let records = try await registry.database.readLatest { session in try datastore.records(session, datasetId: ref.id) }
        return Located(ref: ref, records: records)
    }

    private func artifact(_ located: Located, parameters: ReadParameters) throws -> (StoredFileInfo, StorageClass) {
        guard let info = located.records.first(where: { $0.component.isEmpty }) ?? located.records.first else {
            throw ButlerError.datasetNotFound("\(located.ref) is registered but has no stored artifact (was it unstored?)")
        }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        let unknown = Set(parameters.keys).subtracting(storageClass.parameters)
        if !unknown.isEmpty {
            throw ButlerError.typeMismatch(
                "\(located.ref): storage class \(storageClass.name) accepts no parameter \(unknown.sorted().joined(separator: ", "))"
                    + (storageClass.parameters.isEmpty ? "" : " (accepted: \(storageClass.parameters.sorted().joined(separator: ", ")))"))
        }
        return (info, storageClass)
    }

    private func read(_ located: Located, component: String? = nil, parameters: ReadParameters) throws -> any Sendable {
        let (info, storageClass) = try artifact(located, parameters: parameters)
        guard let component else {
            return try datastore.read(info, ref: located.ref, storageClass: storageClass, parameters: parameters)
        }
        guard storageClass.componentStorageClass(component) != nil else {
            throw ButlerError.typeMismatch(
                "\(located.ref): storage class \(storageClass.name) has no component '\(component)'"
                    + (storageClass.allComponents.isEmpty ? "" : "; components: \(storageClass.allComponents.joined(separator: ", "))"))
        }
        return try datastore.readComponent(component, info, ref: located.ref, storageClass: storageClass, parameters: parameters)
    }

    private func read<T>(_ located: Located, parameters: ReadParameters, as type: T.Type) throws -> T {
        let (info, storageClass) = try artifact(located, parameters: parameters)
        do {
            return try datastore.read(type, info, ref: located.ref, storageClass: storageClass, parameters: parameters)
        } catch let error as ButlerError {
            if case .datastore(let message) = error, message.contains("cannot be returned as") || message.contains("is not Decodable") {
                throw ButlerError.typeMismatch(message)
            }
            throw error
        }
    }

    /// True when the dataset is registered in `collections` and its artifact exists.
    public func exists(_ datasetType: String, dataId: DataId, collections: [String]? = nil) async throws -> Bool {
        let path = try searchCollections(collections, for: "exists(\(datasetType))")
        guard let located = try await locate(datasetType, dataId: dataId, collections: path, required: false) else {
            return false
        }
        return artifactsExist(located)
    }

    /// True when `ref` is registered and its artifact exists.
    public func exists(_ ref: DatasetRef) async throws -> Bool {
        let registry = self.registry
        guard try await registry.database.read({ session in try registry.dataset(session, id: ref.id) }) != nil else {
            return false
        }
        return artifactsExist(try await located(ref))
    }

    private func artifactsExist(_ located: Located) -> Bool {
        !located.records.isEmpty && located.records.allSatisfy {
            FileManager.default.fileExists(atPath: datastore.url(forRecordedPath: $0.path).path)
        }
    }

    /// What the datastore recorded about a dataset's artifacts: path, formatter, size, checksum.
    public func artifactRecords(_ ref: DatasetRef) async throws -> [StoredFileInfo] {
        try await located(ref).records
    }

    /// The locations of a dataset's artifacts (daf_butler's `getURIs`).
    public func artifactURLs(_ ref: DatasetRef) async throws -> [URL] {
        try await located(ref).records.map { datastore.url(forRecordedPath: $0.path) }
    }

    /// The dataset with this ID, if it exists.
    public func dataset(id: UUID) async throws -> DatasetRef? {
        let registry = self.registry
        return try await registry.database.read { session in try registry.dataset(session, id: id) }
    }
}

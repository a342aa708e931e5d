import Composites
public import Formatters

/// Finding and reading datasets. A get is one registry access (the find, the artifact records
/// and the component overrides together), then the datastore's read.
extension Butler {
    /// The dataset of `datasetType` and `dataId` found first along `collections`, or nil.
    ///
    /// A calibration type is also searched for in CALIBRATION collections, among the datasets
    /// certified for a validity range overlapping `timespan` — or, without it, the timespan
    /// of a temporal dimension the data ID names beyond the type's (`["instrument": "HSC",
    /// "detector": 9, "exposure": 903334]` finds the bias valid during exposure 903334), or
    /// all time. Two datasets valid at that time in one collection is an error
    /// (``ButlerError/Code/ambiguousCalibration``) naming both.
    public func findDataset(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, timespan: Timespan? = nil
    ) async throws -> DatasetRef? {
        let path = try searchCollections(collections, for: "findDataset(\(datasetType))")
        return try await locate(datasetType, dataId: dataId, collections: path, timespan: timespan, resolvingComponents: false)?.ref
    }

    /// Reads the dataset of `datasetType` and `dataId` found first along `collections`, as its
    /// storage class's in-memory type. A component is read with `parent.component`
    /// (`calexp.wcs`, `calexp.bbox`): only the part of the artifact that holds it is read. A
    /// calibration is found by time as ``findDataset(_:dataId:collections:timespan:)`` says.
    /// - Throws: ``ButlerError/Code/missingDataset`` naming the data ID and collections.
    public func get(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, timespan: Timespan? = nil, parameters: ReadParameters = [:]
    ) async throws -> any Sendable {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (found, component) = try await locateForGet(datasetType, dataId: dataId, collections: path, timespan: timespan)
        let located = try await withLayouts(found, component: component, parameters: parameters)
        return try read(located, component: component, parameters: parameters)
    }

    /// Reads a dataset (or `parent.component`) as `T` (e.g. a `Codable` struct written as
    /// JSON, `Data` for bytes, `Wcs` for `calexp.wcs`).
    /// - Throws: ``ButlerError/Code/typeMismatch`` when the dataset cannot be read as `T`.
    public func get<T: Sendable>(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, timespan: Timespan? = nil,
        parameters: ReadParameters = [:], as type: T.Type
    ) async throws -> T {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (found, component) = try await locateForGet(datasetType, dataId: dataId, collections: path, timespan: timespan)
        let located = try await withLayouts(found, component: component, parameters: parameters)
        return try typedRead(located, component: component, parameters: parameters, as: type)
    }

    /// Reads the dataset `ref` refers to, or one of its components.
    public func get(_ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:]) async throws -> any Sendable {
        try read(
            try await withLayouts(try await located(ref), component: component, parameters: parameters), component: component,
            parameters: parameters)
    }

    /// Reads the dataset `ref` refers to (or one of its components) as `T`.
    public func get<T: Sendable>(
        _ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:], as type: T.Type
    ) async throws -> T {
        try typedRead(
            try await withLayouts(try await located(ref), component: component, parameters: parameters), component: component,
            parameters: parameters, as: type)
    }

    /// Which dataset supplies each stored component of a composite found along
    /// `collections` (DESIGN §3.1; see ``ComponentResolver``).
    public func componentSources(_ datasetType: String, dataId: DataId, collections: [String]? = nil) async throws -> [String: DatasetRef] {
        let path = try searchCollections(collections, for: "componentSources(\(datasetType))")
        let located = try await locateRequired(datasetType, dataId: dataId, collections: path)
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        var sources = Dictionary(uniqueKeysWithValues: storageClass.components.keys.map { ($0, located.ref) })
        for override in try applyingOverrides(located) { sources[override.component] = override.ref }
        return sources
    }

    /// The overrides of a located composite's components that a get applies: those that win
    /// by search order, and bindings of components the dataset stored none of (which reads
    /// the stored dataset to tell, only when such a binding is a candidate).
    func applyingOverrides(_ located: Located) throws -> [ComponentOverride] {
        guard !located.overrides.isEmpty else { return [] }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        let stored: (any Sendable)? =
            located.overrides.contains { !$0.winsByRank } ? try readStored(located, component: nil, parameters: [:]) : nil
        return located.overrides.filter { $0.applies(storedIn: stored, assembler: storageClass.assembler) }
    }

    /// True when the dataset is registered in `collections` and its artifacts exist.
    public func exists(_ datasetType: String, dataId: DataId, collections: [String]? = nil, timespan: Timespan? = nil) async throws -> Bool
    {
        let path = try searchCollections(collections, for: "exists(\(datasetType))")
        guard
            let located = try await locate(datasetType, dataId: dataId, collections: path, timespan: timespan, resolvingComponents: false)
        else {
            return false
        }
        return try datastore.exists(located.records)
    }

    /// True when `ref` is registered and its artifacts exist.
    public func exists(_ ref: DatasetRef) async throws -> Bool {
        let registry = self.registry
        let datastore = self.datastore
        let records = try await registry.database.readLatest { session -> [StoredFileInfo]? in
            guard try registry.dataset(session, id: ref.id) != nil else { return nil }
            return try datastore.records(session, datasetId: ref.id)
        }
        guard let records else { return false }
        return try datastore.exists(records)
    }

    // MARK: Finding

    /// Finds a dataset and its artifact records — and, with `resolvingComponents`, the
    /// overrides of its components — in one registry access; nil when nothing is found.
    func locate(
        _ datasetType: String, dataId: DataId, collections: [String], timespan: Timespan? = nil, resolvingComponents: Bool
    ) async throws -> Located? {
        let locator = self.locator
        return try await registry.database.readLatest { session in
            try locator.locate(
                session, try locator.registry.datasetTypeRecord(session, named: datasetType), dataId: dataId, collections: collections,
                timespan: timespan, resolvingComponents: resolvingComponents)
        }
    }

    /// ``locate(_:dataId:collections:timespan:resolvingComponents:)`` that throws when nothing
    /// is found.
    func locateRequired(_ datasetType: String, dataId: DataId, collections: [String], timespan: Timespan? = nil) async throws -> Located {
        let locator = self.locator
        return try await registry.database.readLatest { session in
            try locator.locateRequired(
                session, try locator.registry.datasetTypeRecord(session, named: datasetType), dataId: dataId, collections: collections,
                timespan: timespan)
        }
    }

    /// The dataset a get of `name` reads and the component to take from it, in one registry
    /// access (see ``DatasetLocator/locateForGet(_:_:dataId:collections:timespan:)``).
    private func locateForGet(_ name: String, dataId: DataId, collections: [String], timespan: Timespan?) async throws -> (Located, String?)
    {
        let locator = self.locator
        return try await registry.database.readLatest { session in
            try locator.locateForGet(session, name, dataId: dataId, collections: collections, timespan: timespan)
        }
    }

    /// A dataset known by ref: its records (no search path, so stored components are read).
    func located(_ ref: DatasetRef) async throws -> Located {
        let datastore = self.datastore
        let records = try await registry.database.readLatest { session in try datastore.records(session, datasetId: ref.id) }
        return Located(ref: ref, records: records)
    }

    // MARK: Reading

    /// The located dataset with its artifacts' byte layouts when the read needs only part of a
    /// remote artifact (one more registry query, for those reads only).
    private func withLayouts(_ located: Located, component: String?, parameters: ReadParameters) async throws -> Located {
        guard datastore.readsInPart(located.records, component: component, parameters: parameters) else { return located }
        let datastore = datastore
        let records = located.records
        var result = located
        result.records = try await registry.database.readLatest { session in try datastore.withLayouts(session, records) }
        return result
    }

    /// Reads a located dataset, or one component, as its storage class's type: a component
    /// supplied by an override is read from its supplier; a composite has the overrides that
    /// apply put in place of its stored components.
    func read(_ located: Located, component: String?, parameters: ReadParameters) throws -> any Sendable {
        guard let component else { return try assemble(located, parameters: parameters) }
        let candidates = located.overrides.filter { $0.component == component }
        if let winner = candidates.first(where: \.winsByRank) { return try overrideValue(winner, parameters: parameters) }
        do {
            return try readStored(located, component: component, parameters: parameters)
        } catch let error as ButlerError where error.code == .missingComponent {
            // The parent stored no such component: a binding may supply it.
            guard let bound = candidates.first(where: \.isBinding) else { throw error }
            return try overrideValue(bound, parameters: parameters)
        }
    }

    /// Reads as `T`, following the plan made before any I/O (see ``TypedViewPlan``).
    func typedRead<T: Sendable>(_ located: Located, component: String?, parameters: ReadParameters, as type: T.Type) throws -> T {
        let plan = try TypedViewPlan(located.ref.datasetType, component: component, as: type, storageClasses: storageClasses)
        if case .decoded = plan.route {
            let storageClass = try checkedStorageClass(located.ref, component: nil, parameters: parameters)
            return try datastore.read(type, located.ref, records: located.records, storageClass: storageClass, parameters: parameters)
        }
        let value = try read(located, component: component, parameters: parameters)
        return try plan.finish(value, as: type, describing: "\(located.ref)\(component.map { " component \($0)" } ?? "")")
    }

    /// A composite with the overrides that apply in place of its stored components.
    private func assemble(_ located: Located, parameters: ReadParameters) throws -> any Sendable {
        var value = try readStored(located, component: nil, parameters: parameters)
        guard !located.overrides.isEmpty else { return value }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        guard let assembler = storageClass.assembler else { return value }
        let stored = value
        for override in located.overrides where override.applies(storedIn: stored, assembler: assembler) {
            let part = try overrideValue(override, parameters: [:])
            do { value = try assembler.replacing(override.component, with: part, in: value) } catch {
                throw ButlerError.typeMismatch(
                    "cannot use \(override.ref) as component \(override.component) of \(located.ref)", cause: error)
            }
        }
        return value
    }

    /// The value an override supplies: a bound component of another dataset, or a standalone
    /// component dataset (with the parameters its storage class accepts).
    private func overrideValue(_ override: ComponentOverride, parameters: ReadParameters) throws -> any Sendable {
        let supplier = Located(ref: override.ref, records: override.records)
        if let bound = override.boundComponent { return try readStored(supplier, component: bound, parameters: [:]) }
        let overrideClass = try storageClasses.storageClass(named: override.ref.datasetType.storageClassName)
        return try readStored(supplier, component: nil, parameters: parameters.filter { overrideClass.parameters.contains($0.key) })
    }

    /// Reads what the datastore stored for a dataset (no overrides).
    private func readStored(_ located: Located, component: String?, parameters: ReadParameters) throws -> any Sendable {
        let storageClass = try checkedStorageClass(located.ref, component: component, parameters: parameters)
        return try datastore.read(
            located.ref, records: located.records, storageClass: storageClass, component: component, parameters: parameters)
    }

    /// The storage class of `ref`, after checking that it has `component` and accepts
    /// `parameters` — before any artifact is opened.
    private func checkedStorageClass(_ ref: DatasetRef, component: String?, parameters: ReadParameters) throws -> StorageClass {
        let storageClass = try storageClasses.storageClass(named: ref.datasetType.storageClassName)
        let unknown = Set(parameters.keys).subtracting(storageClass.parameters)
        if !unknown.isEmpty {
            throw ButlerError(
                .invalidParameter,
                "\(ref): storage class \(storageClass.name) accepts no parameter \(unknown.sorted().joined(separator: ", "))"
                    + (storageClass.parameters.isEmpty ? "" : " (accepted: \(storageClass.parameters.sorted().joined(separator: ", ")))"))
        }
        if let component, storageClass.componentStorageClass(component) == nil {
            throw ButlerError.typeMismatch(
                "\(ref): storage class \(storageClass.name) has no component '\(component)'"
                    + (storageClass.allComponents.isEmpty ? "" : "; components: \(storageClass.allComponents.joined(separator: ", "))"))
        }
        return storageClass
    }
}

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
        let storageClasses = self.storageClasses
        try await registry.database.write { session in
            if let component = datasetType.component {
                // A standalone component type must fit its parent: a component of the parent's
                // storage class, of that component's storage class, keyed on parent dimensions.
                guard let parent = try registry.datasetTypeRecord(session, named: datasetType.parentName, required: false) else {
                    throw ButlerError.configuration("register \(datasetType.parentName) before its component type \(name)")
                }
                let parentClass = try storageClasses.storageClass(named: parent.datasetType.storageClassName)
                guard let expected = parentClass.components[component] else {
                    throw ButlerError.configuration(
                        "\(name): storage class \(parentClass.name) has no stored component '\(component)' (components: \(parentClass.components.keys.sorted().joined(separator: ", ")))")
                }
                guard expected == storageClass else {
                    throw ButlerError.configuration("\(name) must have storage class \(expected), the \(component) component of \(parentClass.name)")
                }
                let parentNames = Set(parent.datasetType.dimensions.names)
                if let extra = datasetType.dimensions.required.first(where: { !parentNames.contains($0) }) {
                    throw ButlerError.configuration("\(name) has dimension '\(extra)', which \(parent.datasetType) does not")
                }
            }
            _ = try registry.registerDatasetType(session, datasetType)
        }
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
        let artifacts = try datastore.prepare(value, ref: ref, storageClass: storageClass)
        try await commit([(ref, typeRecord, artifacts)])
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
    func commit(_ items: [(DatasetRef, DatasetTypeRecord, [FileDatastore.PreparedArtifact])]) async throws {
        let registry = self.registry
        let datastore = self.datastore
        do {
            try await registry.database.write { session in
                for (ref, typeRecord, artifacts) in items {
                    try registry.insertDataset(session, ref, type: typeRecord)
                    for artifact in artifacts { try datastore.commit(artifact, session: session) }
                }
            }
        } catch {
            for (_, _, artifacts) in items { artifacts.forEach(datastore.abandon) }
            throw error
        }
        for (_, _, artifacts) in items { artifacts.forEach(datastore.finish) }
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
            guard let (ref, rank, attached) = try registry.findRanked(
                session, typeRecord, coordinate, in: path, attaching: FileDatastore.recordsAttachment)
            else {
                if required {
                    throw ButlerError.datasetNotFound(
                        "\(datasetType)@\(coordinate) is not in collections \(collections) (searched \(path.map(\.name)))")
                }
                return nil
            }
            return Located(ref: ref, records: datastore.records(attached: attached, datasetId: ref.id), searchPath: path, rank: rank)
        }
    }

    struct Located: Sendable {
        let ref: DatasetRef
        let records: [StoredFileInfo]
        /// The collection search path the dataset was found along (empty for a get by ref).
        var searchPath: [CollectionRecord] = []
        /// The dataset's position in `searchPath`.
        var rank: Int = 0
    }

    /// Reads the dataset of `datasetType` and `dataId` found first along `collections`, as its
    /// storage class's in-memory type. A component is read with `parent.component`
    /// (`calexp.wcs`, `calexp.bbox`): only the part of the artifact that holds it is read.
    /// - Throws: ``ButlerError/datasetNotFound(_:)`` naming the data ID and collections.
    public func get(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, parameters: ReadParameters = [:]
    ) async throws -> any Sendable {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (located, component) = try await locateForGet(datasetType, dataId: dataId, collections: path)
        guard let component else { return try await assemble(located, parameters: parameters) }
        return try await componentValue(located, component, parameters: parameters)
    }

    /// Reads a dataset (or `parent.component`) as `T` (e.g. a `Codable` struct written as
    /// JSON, `Data` for bytes, `Wcs` for `calexp.wcs`).
    /// - Throws: ``ButlerError/typeMismatch(_:)`` when the dataset cannot be read as `T`.
    public func get<T: Sendable>(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, parameters: ReadParameters = [:],
        as type: T.Type
    ) async throws -> T {
        let path = try searchCollections(collections, for: "get(\(datasetType))")
        let (located, component) = try await locateForGet(datasetType, dataId: dataId, collections: path)
        return try await typedRead(located, component: component, parameters: parameters, as: type)
    }

    /// Reads the dataset `ref` refers to, or one of its components.
    public func get(_ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:]) async throws -> any Sendable {
        try read(try await located(ref), component: component, parameters: parameters)
    }

    /// Reads the dataset `ref` refers to (or one of its components) as `T`.
    public func get<T: Sendable>(
        _ ref: DatasetRef, component: String? = nil, parameters: ReadParameters = [:], as type: T.Type
    ) async throws -> T {
        try await typedRead(try await located(ref), component: component, parameters: parameters, as: type)
    }

    /// Reads as `T`: the storage class's own type, a declared conversion (Exposure → Image,
    /// Image → PixelArray…), or for structured data any `Decodable` type. The conversion is
    /// chosen before any artifact is read, so an impossible one costs no I/O.
    func typedRead<T: Sendable>(_ located: Located, component: String?, parameters: ReadParameters, as type: T.Type) async throws -> T {
        let parentClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        var targetClass = parentClass
        if let component {
            guard let name = parentClass.componentStorageClass(component) else {
                throw ButlerError.typeMismatch(
                    "\(located.ref): storage class \(parentClass.name) has no component '\(component)'; components: \(parentClass.allComponents.joined(separator: ", "))")
            }
            targetClass = try storageClasses.storageClass(named: name)
        }
        let direct = ObjectIdentifier(targetClass.inMemoryType) == ObjectIdentifier(T.self)
        let converter = direct ? nil : targetClass.converter(to: T.self)
        let decodes = !direct && converter == nil && component == nil && targetClass.decodeDefault != nil && T.self is any Decodable.Type
        guard direct || converter != nil || decodes else {
            let options = [String(describing: targetClass.inMemoryType)] + targetClass.converters.map(\.targetName)
            throw ButlerError.typeMismatch(
                "\(located.ref.datasetType.name)\(component.map { ".\($0)" } ?? "") (\(targetClass.name)) cannot be read as \(T.self); it can be read as \(options.joined(separator: ", "))")
        }
        if decodes { return try read(located, parameters: parameters, as: type) }
        let value: any Sendable
        if let component {
            value = try await componentValue(located, component, parameters: parameters)
        } else {
            value = try await assemble(located, parameters: parameters)
        }
        let converted = try converter.map { converter in
            do { return try converter.convert(value) } catch {
                throw ButlerError.typeMismatch("cannot convert \(located.ref) to \(T.self): \(error)")
            }
        } ?? value
        guard let typed = converted as? T else {
            throw ButlerError.typeMismatch("\(located.ref)\(component.map { " component \($0)" } ?? "") is \(Swift.type(of: converted)), not \(T.self)")
        }
        return typed
    }

    /// Which dataset supplies each stored component of a composite found along
    /// `collections`: a standalone `parent.component` dataset (or the dataset a binding names)
    /// found earlier in the search path than the parent's own run, a binding when the parent
    /// stored no such component, else the parent itself (DESIGN §3.1).
    public func componentSources(_ datasetType: String, dataId: DataId, collections: [String]? = nil) async throws -> [String: DatasetRef] {
        let path = try searchCollections(collections, for: "componentSources(\(datasetType))")
        let located = try await locate(datasetType, dataId: dataId, collections: path, required: true)!
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        var sources = Dictionary(uniqueKeysWithValues: storageClass.components.keys.map { ($0, located.ref) })
        let overrides = try await componentOverrides(located)
        let stored: (any Sendable)? = overrides.contains { !$0.winsByRank } ? try read(located, parameters: [:]) : nil
        for override in overrides where override.applies(storedIn: stored, assembler: storageClass.assembler) {
            sources[override.component] = override.ref
        }
        return sources
    }

    /// A dataset that may replace a composite's stored component.
    struct ComponentOverride: Sendable {
        let component: String
        /// The supplying dataset: a standalone component, or (for a binding) a composite.
        let ref: DatasetRef
        let records: [StoredFileInfo]
        /// Found earlier in the search path than the parent's run: it wins outright.
        let winsByRank: Bool
        /// For a binding, the component to read out of `ref` (`photoCalib` of a calexp).
        let boundComponent: String?

        /// Whether it replaces the stored copy: by search order, or (bindings) when the parent
        /// stored none.
        func applies(storedIn value: (any Sendable)?, assembler: (any CompositeAssembler)?) -> Bool {
            if winsByRank { return true }
            guard boundComponent != nil, let value, let assembler else { return false }
            return (try? assembler.component(component, of: value)) == nil
        }
    }

    private func hasComponentTypes(_ located: Located) throws -> Bool {
        guard !located.searchPath.isEmpty else { return false }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        return storageClass.isComposite && storageClass.assembler != nil
    }

    /// Candidate replacements for a composite's stored components: standalone
    /// `parent.component` datasets found earlier in the search path, and datasets named by a
    /// component binding (with the parent's data ID projected to their dimensions).
    func componentOverrides(_ located: Located) async throws -> [ComponentOverride] {
        guard try hasComponentTypes(located) else { return [] }
        let registry = self.registry
        let datastore = self.datastore
        let parentName = located.ref.datasetType.name
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        let bindings = (config.componentBindings ?? [:]).compactMap { key, target -> (String, String, String)? in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            let targetParts = target.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == parentName, storageClass.components[parts[1]] != nil, targetParts.count == 2 else { return nil }
            return (parts[1], targetParts[0], targetParts[1])
        }
        return try await registry.database.readLatest { session in
            var expanded: DataCoordinate?
            /// The parent's data ID projected onto `group`, expanding it once if needed.
            func project(_ group: DimensionGroup) throws -> DataCoordinate? {
                var values: [String: DataIdValue] = [:]
                for name in group.required {
                    if let value = located.ref.dataId[name] ?? expanded?[name] {
                        values[name] = value
                    } else {
                        expanded = try expanded ?? registry.expand(session, located.ref.dataId, context: "\(parentName) data ID")
                        guard let value = expanded?[name] else { return nil }
                        values[name] = value
                    }
                }
                return DataCoordinate(dimensions: group, values: values)
            }
            var overrides: [ComponentOverride] = []
            let types = try registry.componentTypes(session, of: parentName).filter { storageClass.components[$0.key] != nil }
            for (component, record) in types.sorted(by: { $0.key < $1.key }) {
                guard let coordinate = try project(record.datasetType.dimensions),
                    let (ref, rank, attached) = try registry.findRanked(
                        session, record, coordinate, in: located.searchPath, attaching: FileDatastore.recordsAttachment),
                    rank < located.rank
                else { continue }
                overrides.append(ComponentOverride(component: component, ref: ref, records: datastore.records(attached: attached, datasetId: ref.id),
                                                   winsByRank: true, boundComponent: nil))
            }
            for (component, targetType, targetComponent) in bindings.sorted(by: { $0.0 < $1.0 }) where !overrides.contains(where: { $0.component == component }) {
                guard let record = try registry.datasetTypeRecord(session, named: targetType, required: false),
                    let coordinate = try project(record.datasetType.dimensions),
                    let (ref, rank, attached) = try registry.findRanked(
                        session, record, coordinate, in: located.searchPath, attaching: FileDatastore.recordsAttachment)
                else { continue }
                overrides.append(ComponentOverride(component: component, ref: ref, records: datastore.records(attached: attached, datasetId: ref.id),
                                                   winsByRank: rank < located.rank, boundComponent: targetComponent))
            }
            return overrides
        }
    }

    /// Reads the value an override supplies.
    private func overrideValue(_ override: ComponentOverride, parameters: ReadParameters) throws -> any Sendable {
        let supplier = Located(ref: override.ref, records: override.records)
        if let bound = override.boundComponent { return try read(supplier, component: bound, parameters: [:]) }
        let overrideClass = try storageClasses.storageClass(named: override.ref.datasetType.storageClassName)
        return try read(supplier, parameters: parameters.filter { overrideClass.parameters.contains($0.key) })
    }

    /// Reads a dataset and, for composites found along a search path, replaces stored
    /// components with the overrides that apply.
    func assemble(_ located: Located, parameters: ReadParameters) async throws -> any Sendable {
        var value = try read(located, parameters: parameters)
        let overrides = try await componentOverrides(located)
        guard !overrides.isEmpty else { return value }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        let stored = value
        for override in overrides where override.applies(storedIn: stored, assembler: storageClass.assembler) {
            let part = try overrideValue(override, parameters: [:])
            do { value = try storageClass.assembler!.replacing(override.component, with: part, in: value) } catch {
                throw ButlerError.typeMismatch("cannot use \(override.ref) as component \(override.component) of \(located.ref): \(error)")
            }
        }
        return value
    }

    /// `(parent, component)` for a `parent.component` name whose full name is not itself a
    /// registered dataset type; `(name, nil)` otherwise.
    private func splitComponent(_ name: String) async throws -> (String, String?) {
        guard let dot = name.firstIndex(of: ".") else { return (name, nil) }
        let parent = String(name[..<dot])
        let registry = self.registry
        let parentExists = try await registry.database.readLatest { session in
            try registry.datasetTypeRecord(session, named: parent, required: false) != nil
        }
        // With its parent registered, a component is resolved through the parent (so that
        // a standalone component dataset competes with the stored copy by search order).
        return parentExists ? (parent, String(name[name.index(after: dot)...])) : (name, nil)
    }

    /// The dataset a get of `name` reads and the component to take from it: for
    /// `parent.component`, the parent (its component resolved by search order) — or, when no
    /// parent is found, a standalone component dataset of that name.
    private func locateForGet(_ name: String, dataId: DataId, collections: [String]) async throws -> (Located, String?) {
        let (parent, component) = try await splitComponent(name)
        guard let component else { return (try await locate(name, dataId: dataId, collections: collections, required: true)!, nil) }
        if let located = try await locate(parent, dataId: dataId, collections: collections, required: false) {
            return (located, component)
        }
        let registry = self.registry
        let standalone = try await registry.database.readLatest { session in
            try registry.datasetTypeRecord(session, named: name, required: false) != nil
        }
        if standalone { return (try await locate(name, dataId: dataId, collections: collections, required: true)!, nil) }
        _ = try await locate(parent, dataId: dataId, collections: collections, required: true)
        throw ButlerError.datasetNotFound("\(name) in \(collections)")
    }

    /// One component of a located composite: a standalone component dataset that wins by
    /// search order, else the copy stored with the parent.
    func componentValue(_ located: Located, _ component: String, parameters: ReadParameters) async throws -> any Sendable {
        let candidates = try await componentOverrides(located).filter { $0.component == component }
        if let winner = candidates.first(where: \.winsByRank) { return try overrideValue(winner, parameters: parameters) }
        do {
            return try read(located, component: component, parameters: parameters)
        } catch {
            // The parent stored no such component: a binding may supply it.
            guard let bound = candidates.first(where: { $0.boundComponent != nil }) else { throw error }
            return try overrideValue(bound, parameters: parameters)
        }
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
        if let component, storageClass.componentStorageClass(component) == nil {
            throw ButlerError.typeMismatch(
                "\(located.ref): storage class \(storageClass.name) has no component '\(component)'"
                    + (storageClass.allComponents.isEmpty ? "" : "; components: \(storageClass.allComponents.joined(separator: ", "))"))
        }
        if info.component.isEmpty {
            guard let component else {
                return try datastore.read(info, ref: located.ref, storageClass: storageClass, parameters: parameters)
            }
            return try datastore.readComponent(component, info, ref: located.ref, storageClass: storageClass, parameters: parameters)
        }
        return try readDisassembled(located, component: component, storageClass: storageClass, parameters: parameters)
    }

    /// Reads a dataset stored one artifact per component: a stored component reads its own
    /// artifact; a derived one reads only the header of the component it comes from; the
    /// whole composite is assembled from every artifact.
    private func readDisassembled(_ located: Located, component: String?, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        guard let assembler = storageClass.assembler else {
            throw ButlerError.datastore("\(located.ref) is stored in components but storage class \(storageClass.name) has no assembler")
        }
        func readPart(_ info: StoredFileInfo) throws -> any Sendable {
            let partClass = try storageClasses.storageClass(named: info.storageClass)
            let partParameters = parameters.filter { partClass.parameters.contains($0.key) }
            return try datastore.read(info, ref: located.ref, storageClass: partClass, parameters: partParameters)
        }
        if let component {
            if let info = located.records.first(where: { $0.component == component }) {
                return try readPart(info)
            }
            if let source = assembler.sourceComponent(forDerived: component), component != "maskedImage",
                let info = located.records.first(where: { $0.component == source })
            {
                let sourceClass = try storageClasses.storageClass(named: info.storageClass)
                return try datastore.readComponent(component, info, ref: located.ref, storageClass: sourceClass, parameters: [:])
            }
        }
        var parts: [String: any Sendable] = [:]
        for info in located.records { parts[info.component] = try readPart(info) }
        do {
            let composite = try assembler.assemble(parts)
            guard let component else { return composite }
            return try assembler.component(component, of: composite)
        } catch let error as ButlerError {
            throw error
        } catch {
            throw ButlerError.datastore("cannot assemble \(located.ref): \(error)")
        }
    }

    private func read<T>(_ located: Located, parameters: ReadParameters, as type: T.Type) throws -> T {
        let (info, storageClass) = try artifact(located, parameters: parameters)
        if !info.component.isEmpty {
            let value = try readDisassembled(located, component: nil, storageClass: storageClass, parameters: parameters)
            guard let typed = value as? T else { throw ButlerError.typeMismatch("\(located.ref) is \(Swift.type(of: value)), not \(T.self)") }
            return typed
        }
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

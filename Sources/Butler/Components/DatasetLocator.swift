import Composites

/// Finds datasets for reading inside a registry unit of work: the find-first look-up with the
/// artifact records attached, and the component resolution, so that a get is one access.
struct DatasetLocator: Sendable {
    let registry: Registry
    let universe: DimensionUniverse
    let components: ComponentResolver

    /// The dataset of `typeRecord` and `dataId` found first along `collections`, its records,
    /// and (with `resolvingComponents`) the overrides of its components; nil when none is found.
    func locate(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, dataId: DataId, collections: [String], resolvingComponents: Bool = true
    ) throws -> Located? {
        let datasetType = typeRecord.datasetType
        let coordinate = try universe.standardize(dataId, for: datasetType.dimensions, context: "\(datasetType.name) data ID")
        let path = try registry.searchPath(session, collections)
        let datastore = components.datastore
        guard let found = try registry.findRanked(session, typeRecord, coordinate, in: path, attaching: datastore.recordsAttachment) else {
            return nil
        }
        var located = Located(
            ref: found.ref, records: datastore.records(attached: found.attached, datasetId: found.ref.id), searchPath: path,
            rank: found.rank)
        if resolvingComponents { located.overrides = try components.overrides(session, for: located) }
        return located
    }

    /// ``locate(_:_:dataId:collections:resolvingComponents:)`` that throws, naming the data ID
    /// and the collections searched, when nothing is found.
    func locateRequired(_ session: any SQLSession, _ typeRecord: DatasetTypeRecord, dataId: DataId, collections: [String]) throws -> Located
    {
        if let located = try locate(session, typeRecord, dataId: dataId, collections: collections) { return located }
        let datasetType = typeRecord.datasetType
        let coordinate = try universe.standardize(dataId, for: datasetType.dimensions, context: "\(datasetType.name) data ID")
        let path = try registry.searchPath(session, collections)
        throw ButlerError(
            .missingDataset, "\(datasetType.name)@\(coordinate) is not in collections \(collections) (searched \(path.map(\.name)))",
            reasons: try registry.whyNotFound(session, typeRecord, coordinate, in: path))
    }

    /// The dataset a get of `name` reads and the component to take from it: for
    /// `parent.component` (with its parent registered) the parent found along the path, its
    /// component resolved by search order — or, when no parent is found, a standalone component
    /// dataset of that name.
    func locateForGet(_ session: any SQLSession, _ name: String, dataId: DataId, collections: [String]) throws -> (Located, String?) {
        guard let dot = name.firstIndex(of: "."), let parent = try registry.findDatasetType(session, named: String(name[..<dot])) else {
            return (
                try locateRequired(session, try registry.datasetTypeRecord(session, named: name), dataId: dataId, collections: collections),
                nil
            )
        }
        // With its parent registered, a component is resolved through the parent, so that a
        // standalone component dataset competes with the stored copy by search order.
        let component = String(name[name.index(after: dot)...])
        if let located = try locate(session, parent, dataId: dataId, collections: collections) { return (located, component) }
        if let standalone = try registry.findDatasetType(session, named: name) {
            return (try locateRequired(session, standalone, dataId: dataId, collections: collections), nil)
        }
        _ = try locateRequired(session, parent, dataId: dataId, collections: collections)
        throw ButlerError.datasetNotFound("\(name) in \(collections)")
    }
}

/// A dataset found for reading: its artifact records and, when found along a search path,
/// where, and the component overrides found in the same registry access.
struct Located: Sendable {
    let ref: DatasetRef
    let records: [StoredFileInfo]
    /// The collection search path the dataset was found along (empty for a get by ref).
    var searchPath: [CollectionRecord] = []
    /// The dataset's position in `searchPath`.
    var rank: Int = 0
    /// Candidate replacements of its stored components (composites found along a path).
    var overrides: [ComponentOverride] = []
}

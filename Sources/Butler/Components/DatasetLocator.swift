import Composites

/// Finds datasets for reading inside a registry unit of work: the find-first look-up with the
/// artifact records attached, and the component resolution, so that a get is one access.
struct DatasetLocator: Sendable {
    let registry: Registry
    let universe: DimensionUniverse
    let components: ComponentResolver

    /// The dataset of `typeRecord` and `dataId` found first along `collections`, its records,
    /// and (with `resolvingComponents`) the overrides of its components; nil when none is found.
    /// A calibration type is looked up at `timespan`, or at the time of the data ID's
    /// temporal dimensions (see ``Registry/lookupKey(_:_:for:timespan:)``).
    func locate(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, dataId: DataId, collections: [String], timespan: Timespan? = nil,
        resolvingComponents: Bool = true
    ) throws -> Located? {
        let (coordinate, time) = try registry.lookupKey(session, dataId, for: typeRecord.datasetType, timespan: timespan)
        let path = try registry.searchPath(session, collections)
        let datastore = components.datastore
        guard
            let found = try registry.findRanked(
                session, typeRecord, coordinate, in: path, timespan: time, attaching: datastore.recordsAttachment)
        else {
            return nil
        }
        var located = Located(
            ref: found.ref, records: datastore.records(attached: found.attached, datasetId: found.ref.id), searchPath: path,
            rank: found.rank, timespan: time)
        if resolvingComponents { located.overrides = try components.overrides(session, for: located) }
        return located
    }

    /// ``locate(_:_:dataId:collections:resolvingComponents:)`` that throws, naming the data ID
    /// and the collections searched, when nothing is found.
    func locateRequired(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, dataId: DataId, collections: [String], timespan: Timespan? = nil
    ) throws -> Located {
        if let located = try locate(session, typeRecord, dataId: dataId, collections: collections, timespan: timespan) { return located }
        let datasetType = typeRecord.datasetType
        let (coordinate, time) = try registry.lookupKey(session, dataId, for: datasetType, timespan: timespan)
        let path = try registry.searchPath(session, collections)
        var reasons = try registry.whyNotFound(session, typeRecord, coordinate, in: path)
        if let time { reasons += try registry.calibrationMissReasons(session, typeRecord, coordinate, in: path, timespan: time) }
        throw ButlerError(
            .missingDataset,
            "\(datasetType.name)@\(coordinate)\(time.map { $0 == .unbounded ? "" : " at \($0)" } ?? "") is not in collections \(collections) (searched \(path.map(\.name)))",
            reasons: reasons)
    }

    /// The dataset a get of `name` reads and the component to take from it: for
    /// `parent.component` (with its parent registered) the parent found along the path, its
    /// component resolved by search order — or, when no parent is found, a standalone component
    /// dataset of that name.
    func locateForGet(
        _ session: any SQLSession, _ name: String, dataId: DataId, collections: [String], timespan: Timespan? = nil
    ) throws -> (Located, String?) {
        guard let dot = name.firstIndex(of: "."), let parent = try registry.findDatasetType(session, named: String(name[..<dot])) else {
            let typeRecord = try registry.datasetTypeRecord(session, named: name)
            return (try locateRequired(session, typeRecord, dataId: dataId, collections: collections, timespan: timespan), nil)
        }
        // With its parent registered, a component is resolved through the parent, so that a
        // standalone component dataset competes with the stored copy by search order.
        let component = String(name[name.index(after: dot)...])
        if let located = try locate(session, parent, dataId: dataId, collections: collections, timespan: timespan) {
            return (located, component)
        }
        if let standalone = try registry.findDatasetType(session, named: name) {
            return (try locateRequired(session, standalone, dataId: dataId, collections: collections, timespan: timespan), nil)
        }
        _ = try locateRequired(session, parent, dataId: dataId, collections: collections, timespan: timespan)
        throw ButlerError.datasetNotFound("\(name) in \(collections)")
    }
}

/// A dataset found for reading: its artifact records and, when found along a search path,
/// where, and the component overrides found in the same registry access.
struct Located: Sendable {
    let ref: DatasetRef
    var records: [StoredFileInfo]
    /// The collection search path the dataset was found along (empty for a get by ref).
    var searchPath: [CollectionRecord] = []
    /// The dataset's position in `searchPath`.
    var rank: Int = 0
    /// Candidate replacements of its stored components (composites found along a path).
    var overrides: [ComponentOverride] = []
    /// The time a calibration was looked up at; its components are looked up at it too.
    var timespan: Timespan?
}

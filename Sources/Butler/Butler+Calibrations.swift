/// Certifying calibrations: CALIBRATION collections hold datasets of calibration types, each
/// with a validity range; a find or get by time picks the one valid then.
extension Butler {
    /// Certifies `refs` into the CALIBRATION collection `collection` (created if missing) as
    /// valid for `timespan` (daf_butler's `Registry.certify`).
    ///
    /// Two validity ranges of one dataset type and data ID in one collection never overlap —
    /// the database refuses it on every engine, even from concurrent writers — so certifying a
    /// dataset for a range that overlaps one already certified (of any dataset) fails and
    /// certifies nothing; ``decertify(collection:datasetType:timespan:dataIds:)`` first.
    /// - Throws: ``ButlerError/Code/conflict`` with one reason per overlap;
    ///   ``ButlerError/Code/invalidArgument`` for an empty timespan or a type that is not a
    ///   calibration type.
    public func certify(_ refs: [DatasetRef], collection: String, timespan: Timespan) async throws {
        try requireWriteable("certify into \(collection)")
        let registry = self.registry
        try await registry.database.writeRetrying { session in
            if try registry.findCollection(session, named: collection) == nil {
                try registry.registerCollection(session, collection, type: .calibration)
            }
            try registry.certify(session, collection: collection, refs: refs, timespan: timespan)
        }
    }

    /// Removes `timespan` from the validity ranges of `datasetType` in the CALIBRATION
    /// collection `collection` — of the datasets with `dataIds` only, when given (daf_butler's
    /// `Registry.decertify`). A range inside `timespan` is removed; one that reaches past it
    /// keeps the part outside (a range around it becomes two). Returns how many ranges changed.
    @discardableResult
    public func decertify(collection: String, datasetType: String, timespan: Timespan, dataIds: [DataId]? = nil) async throws -> Int {
        try requireWriteable("decertify in \(collection)")
        let registry = self.registry
        let universe = self.universe
        return try await registry.database.writeRetrying { session in
            let typeRecord = try registry.datasetTypeRecord(session, named: datasetType)
            let coordinates = try dataIds?.map {
                try universe.standardize($0, for: typeRecord.datasetType.dimensions, context: "decertify \(datasetType) data ID")
            }
            return try registry.decertify(
                session, collection: collection, datasetType: datasetType, timespan: timespan, dataIds: coordinates)
        }
    }

    /// Every membership of datasets of `datasetType` in `collections` (chains flattened): RUN
    /// and TAGGED memberships without a timespan, CALIBRATION ones with the range each is
    /// certified for (daf_butler's `queryDatasetAssociations`).
    public func queryDatasetAssociations(_ datasetType: String, collections: [String]? = nil) async throws -> [DatasetAssociation] {
        let names = try searchCollections(collections, for: "queryDatasetAssociations(\(datasetType))")
        let registry = self.registry
        return try await registry.database.read { session in
            let typeRecord = try registry.datasetTypeRecord(session, named: datasetType)
            let path = try registry.searchPath(session, names)
            var associations: [DatasetAssociation] = []
            for collection in path where collection.type != .calibration {
                for ref in try registry.queryDatasets(session, typeRecord, in: [collection], where: nil, bind: [:], findFirst: false) {
                    associations.append(DatasetAssociation(ref: ref, collection: collection.name, timespan: nil))
                }
            }
            return associations + (try registry.calibAssociations(session, typeRecord, in: path))
        }
    }

    /// What `butler certify-calibrations` does (daf_butler's `certifyCalibrations`): certifies
    /// every dataset of `datasetType` found first in `input` into the CALIBRATION collection
    /// `output` for `timespan`. Of a CHAINED `input`, only the first child is searched unless
    /// `searchAllInputs`. Returns the datasets certified.
    /// - Throws: ``ButlerError/Code/missingDataset`` when `input` holds none (with why).
    @discardableResult
    public func certifyCalibrations(
        from input: String, into output: String, datasetType: String, timespan: Timespan, searchAllInputs: Bool = false
    ) async throws -> [DatasetRef] {
        var search = input
        if !searchAllInputs, let info = try await collections(matching: [input]).first(where: { $0.name == input }),
            info.type == .chained, let first = info.children.first
        {
            search = first
        }
        let refs = try await queryDatasets([datasetType], collections: [search], findFirst: true)
        if refs.isEmpty {
            throw ButlerError(
                .missingDataset, "no \(datasetType) datasets in '\(search)' to certify into '\(output)'",
                reasons: [
                    search == input
                        ? "'\(input)' holds none"
                        : "'\(search)' (the first child of chain '\(input)') holds none; --search-all-inputs searches every child"
                ])
        }
        try await certify(refs, collection: output, timespan: timespan)
        return refs
    }

    /// For each data ID of a calibration type's dimensions plus the temporal `dimensions`
    /// (`["exposure"]`) that `expression` matches, the dataset found first along `collections`
    /// — in a CALIBRATION collection, the one valid at that exposure's or visit's time — in one
    /// query (a temporal join). What a pipeline needs to give each exposure × detector its bias.
    /// - Throws: ``ButlerError/Code/ambiguousCalibration`` when two datasets are valid at one
    ///   data ID's time in the first collection holding any.
    public func findCalibrations(
        _ datasetType: String, for dimensions: [String], collections: [String]? = nil, where expression: String? = nil,
        dataId: DataId = [:], bind: [String: BindValue] = [:]
    ) async throws -> [CalibrationMatch] {
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
        let names = try searchCollections(collections, for: "findCalibrations(\(datasetType))")
        let registry = self.registry
        let universe = self.universe
        return try await registry.database.read { session in
            let record = try registry.datasetTypeRecord(session, named: datasetType)
            let joining = dimensions.map { universe.aliases[$0] ?? $0 }.filter { !record.datasetType.dimensions.names.contains($0) }
            let temporal = universe.sorted(
                Set(registry.temporalDimensions(in: predicate, beyond: record.datasetType.dimensions) + joining))
            guard !temporal.isEmpty else {
                throw ButlerError.query(
                    "findCalibrations(\(datasetType)): name a temporal dimension (exposure, visit, day_obs) to find calibrations for, in for: or the where-expression"
                )
            }
            let group = try universe.group(record.datasetType.dimensions.required + temporal)
            guard group.required == universe.sorted(record.datasetType.dimensions.required + temporal) else {
                throw ButlerError.query("findCalibrations(\(datasetType)): \(group) adds dimensions the join does not give")
            }
            // In the order of the full data ID, as the join returns them.
            var sink = CalibrationMatches(group: group, datasetType: record.datasetType)
            _ = try registry.datasetMatches(
                session, record, in: try registry.searchPath(session, names), where: predicate, bind: bind, findFirst: true,
                joining: joining, into: &sink)
            return sink.matches
        }
    }
}

/// A data ID and the calibration found for it (``Butler/findCalibrations(_:for:collections:where:dataId:bind:)``).
///
/// A million of these come back from one join, so a match holds its dataset and the values of
/// the temporal dimensions only (no allocation of its own); ``dataId`` is made when asked for.
public struct CalibrationMatch: Sendable, Hashable {
    /// The calibration valid at the data ID's time.
    public let ref: DatasetRef
    /// The full data ID's dimensions: the calibration type's and the temporal ones joined.
    public let dimensions: DimensionGroup
    /// The temporal values (a single one stored inline), in universe order.
    private let temporal: TemporalValues

    enum TemporalValues: Sendable, Hashable {
        case one(DataIdValue)
        case many([DataIdValue])
    }

    init(ref: DatasetRef, dimensions: DimensionGroup, temporal: TemporalValues) {
        self.ref = ref
        self.dimensions = dimensions
        self.temporal = temporal
    }

    /// The data ID: the calibration type's dimensions plus the temporal ones joined
    /// (`{instrument, detector, exposure}`).
    public var dataId: DataCoordinate {
        var extra: [DataIdValue]
        switch temporal {
        case .one(let value): extra = [value]
        case .many(let values): extra = values
        }
        extra.reverse()
        var values: [DataIdValue?] = []
        values.reserveCapacity(dimensions.names.count)
        for name in dimensions.required { values.append(ref.dataId[name] ?? extra.popLast()) }
        return DataCoordinate(dimensions: dimensions, requiredValues: values)
    }
}

/// Collects a temporal join's rows as ``CalibrationMatch``es, keeping only the temporal
/// values of each data ID.
struct CalibrationMatches: DatasetMatchSink {
    let group: DimensionGroup
    /// Where the temporal values are in a full data ID's values.
    let temporalPositions: [Int]
    var matches: [CalibrationMatch] = []

    init(group: DimensionGroup, datasetType: DatasetType) {
        self.group = group
        temporalPositions = group.required.indices.filter { !datasetType.dimensions.names.contains(group.required[$0]) }
    }

    mutating func add(_ ref: DatasetRef, _ key: [DataIdValue?]) {
        let temporal: CalibrationMatch.TemporalValues =
            temporalPositions.count == 1 ? .one(key[temporalPositions[0]]!) : .many(temporalPositions.map { key[$0]! })
        matches.append(CalibrationMatch(ref: ref, dimensions: group, temporal: temporal))
    }
}

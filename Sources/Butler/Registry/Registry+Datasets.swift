import Foundation

/// Datasets: insertion into a RUN, find-first lookup, queries, tagging, deletion.
extension Registry {
    /// Inserts a new dataset into its RUN collection.
    /// - Throws: ``ButlerError/Code/conflict`` naming the existing ref when the run
    ///   already holds a dataset of this type and data ID, or the ID is taken.
    func insertDataset(_ session: any SQLSession, _ ref: DatasetRef, type typeRecord: DatasetTypeRecord) throws {
        let run = try runRecord(session, named: ref.run)
        if let existing = try find(session, typeRecord, ref.dataId, in: [run]) {
            throw ButlerError.datasetExists("\(existing) is already in run '\(ref.run)'")
        }
        // Checked before inserting: PostgreSQL aborts the whole transaction on a failed
        // statement, so a constraint violation cannot be caught and explained afterwards.
        if let other = try dataset(session, id: ref.id) {
            throw ButlerError.datasetExists("dataset id \(ref.id.uuidString.lowercased()) is already used by \(other)")
        }
        do {
            try session.execute(
                "INSERT INTO dataset (id, dataset_type_id, run_id, ingest_date) VALUES (?, ?, ?, ?)",
                [.uuid(ref.id), .integer(typeRecord.id), .integer(run.id), .integer(AstroTime.now().taiNanoseconds)])
        } catch let error as SQLError where error.violated == .foreignKey {
            // The run (or the dataset type) was removed by another writer after this process
            // looked it up.
            forget(collection: ref.run)
            forget(datasetType: typeRecord.datasetType.name)
            throw ButlerError(
                .collection, "run '\(ref.run)' or dataset type \(typeRecord.datasetType.name) was removed while \(ref) was being stored",
                cause: error)
        }
        try insertTag(session, typeRecord, ref, collection: run, runId: run.id)
    }

    private func insertTag(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ ref: DatasetRef, collection: CollectionRecord, runId: Int64
    ) throws {
        let dims = typeRecord.datasetType.dimensions.required
        let sql =
            "INSERT INTO \(typeRecord.tagTable) (dataset_type_id, collection_id, dataset_id, run_id"
            + dims.map { ", " + dialect.quote($0) }.joined() + ") VALUES (?, ?, ?, ?"
            + String(repeating: ", ?", count: dims.count) + ")"
        let values: [SQLValue] =
            [.integer(typeRecord.id), .integer(collection.id), .uuid(ref.id), .integer(runId)]
            + dims.map { Self.sqlValue(ref.dataId[$0]!) }
        try session.execute(sql, values)
    }

    /// Find-first: the dataset of this type and data ID in the first collection of the search
    /// path that has one.
    func find(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord]
    ) throws -> DatasetRef? {
        try findRanked(session, typeRecord, dataId, in: path)?.ref
    }

    /// What a find-first look-up found: the dataset, the position of its collection in the
    /// search path (composite assembly compares a component's position with its parent's), and
    /// the rows of an attached table that belong to it.
    struct Found: Sendable {
        let ref: DatasetRef
        let rank: Int
        /// The attached table's columns, one row per matching row (none without an attachment
        /// or when the LEFT JOIN matched nothing but NULLs).
        let attached: [ArraySlice<SQLValue>]
    }

    /// Find-first, also saying at which position of the search path the dataset was found, and
    /// bringing back in the same statement the rows `attachment` holds for it. A PostgreSQL round
    /// trip costs more than the whole SQLite statement, and a get needs the artifact records of
    /// what it finds.
    ///
    /// With `timespan`, a calibration type is also looked up in the CALIBRATION collections of
    /// the path, among the datasets certified for a range overlapping it (same statement); two
    /// such datasets in the first collection holding any is an ambiguity, and an error. Without
    /// it, CALIBRATION collections are passed over.
    func findRanked(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord],
        timespan: Timespan? = nil, attaching attachment: AttachedTable? = nil
    ) throws -> Found? {
        guard !path.isEmpty else { return nil }
        let dims = typeRecord.datasetType.dimensions.required
        let dimensionValues = dims.map { Self.sqlValue(dataId[$0]!) }
        var calibrations: [CollectionRecord] = []
        var calibTableName: String?
        if timespan != nil, typeRecord.datasetType.isCalibration, path.contains(where: { $0.type == .calibration }) {
            calibTableName = try calibTable(session, for: typeRecord.datasetType.dimensions, create: false)
            if calibTableName != nil { calibrations = path.filter { $0.type == .calibration } }
        }
        let tagged = path.filter { $0.type != .calibration }
        func inList(_ alias: String, _ count: Int) -> String {
            count == 1
                ? "\(alias).collection_id = ?"
                : "\(alias).collection_id IN (" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
        }
        // Validity columns are selected only when a CALIBRATION collection is searched, so
        // the common find keeps its short statement.
        let withValidity = !calibrations.isEmpty
        var branches: [String] = []
        var arguments: [SQLValue] = []
        if !tagged.isEmpty {
            let join = attachment.map { $0.join(onDatasetIdOf: "t", alias: "a", dialect: dialect) }
            branches.append(
                "SELECT t.dataset_id, t.collection_id, t.run_id"
                    + (withValidity ? ", CAST(NULL AS \(dialect.bigintType)), CAST(NULL AS \(dialect.bigintType))" : "")
                    + (join.map { ", " + $0.columns } ?? "")
                    + " FROM \(typeRecord.tagTable) t " + (join.map { $0.clause + " " } ?? "")
                    + "WHERE t.dataset_type_id = ? AND "
                    // A type with no dimensions (a run's config) has no data ID terms.
                    + dims.map { "t.\(dialect.quote($0)) = ? AND " }.joined()
                    + inList("t", tagged.count))
            arguments += (join?.arguments ?? []) + [.integer(typeRecord.id)] + dimensionValues + tagged.map { .integer($0.id) }
        }
        if let table = calibTableName, let timespan, !calibrations.isEmpty {
            let join = attachment.map { $0.join(onDatasetIdOf: "c", alias: "ca", dialect: dialect) }
            branches.append(
                "SELECT c.dataset_id, c.collection_id, c.run_id, c.validity_begin, c.validity_end"
                    + (join.map { ", " + $0.columns } ?? "")
                    + " FROM \(table) c " + (join.map { $0.clause + " " } ?? "")
                    + "WHERE c.dataset_type_id = ? AND "
                    // A type with no dimensions (a run's config) has no data ID terms.
                    + dims.map { "c.\(dialect.quote($0)) = ? AND " }.joined()
                    + inList("c", calibrations.count)
                    + " AND c.validity_begin < ? AND ? < c.validity_end")
            arguments +=
                (join?.arguments ?? []) + [.integer(typeRecord.id)] + dimensionValues + calibrations.map { .integer($0.id) }
                + [.integer(timespan.endNanoseconds), .integer(timespan.beginNanoseconds)]
        }
        guard !branches.isEmpty else { return nil }
        let rows = try session.query(branches.joined(separator: " UNION ALL "), arguments)
        guard !rows.isEmpty else { return nil }
        let rank = Dictionary(uniqueKeysWithValues: path.enumerated().map { ($1.id, $0) })
        let best = rows.min { rank[$0[1].int64!]! < rank[$1[1].int64!]! }!
        let bestCollection = best[1].int64!
        let id = best[0].uuidValue!
        if withValidity {
            // Within one CALIBRATION collection, one dataset per time: two found is an ambiguity.
            var candidates: [UUID: SQLRow] = [:]
            for row in rows where row[1].int64 == bestCollection && row[3] != .null { candidates[row[0].uuidValue!] = row }
            if candidates.count > 1 {
                let described = try candidates.values.sorted { $0[3].int64! < $1[3].int64! }.map { row in
                    "\(row[0].uuidValue!.uuidString.lowercased()) (run '\(try collection(session, id: row[2].int64!).name)', valid \(Timespan(nanoseconds: row[3].int64!, row[4].int64!)))"
                }
                throw Self.ambiguity(
                    typeRecord.datasetType.name, "\(dataId) for \(timespan!)", in: try collection(session, id: bestCollection).name,
                    described,
                    hint: "; give a narrower time (an exposure or visit in the data ID, or a timespan)")
            }
        }
        let run = try collection(session, id: best[2].int64!)
        let coordinate = DataCoordinate(dimensions: typeRecord.datasetType.dimensions, values: dataId.requiredMapping)
        // With a join, the found dataset spans one row per attached row (all in its collection).
        let firstAttached = withValidity ? 5 : 3
        let attached =
            attachment == nil
            ? []
            : rows
                .filter { $0[1].int64 == bestCollection && $0[0].uuidValue == id }
                .map { $0.values[firstAttached...] }
        return Found(
            ref: DatasetRef(id: id, datasetType: typeRecord.datasetType, dataId: coordinate, run: run.name), rank: rank[bestCollection]!,
            attached: attached)
    }

    /// Why a find of `dataId` along `path` found nothing: data-ID values without a dimension
    /// record, and whether the dataset type has any dataset in those collections at all.
    func whyNotFound(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord]
    ) throws -> [String] {
        var reasons: [String] = []
        for name in dataId.dimensions.required {
            guard let element = universe.elements[name], !element.isSkypix else { continue }
            if case .missing(let reason) = try lookUpRecord(session, element, { dataId[$0] }) { reasons.append(reason) }
        }
        if path.isEmpty {
            reasons.append("the collections searched are empty")
        } else {
            let placeholders = Array(repeating: "?", count: path.count).joined(separator: ", ")
            let any = try session.queryOne(
                "SELECT 1 FROM \(typeRecord.tagTable) WHERE dataset_type_id = ? AND collection_id IN (\(placeholders)) LIMIT 1",
                [.integer(typeRecord.id)] + path.map { .integer($0.id) })
            if any == nil {
                reasons.append("\(typeRecord.datasetType.name) has no datasets in \(path.map(\.name).joined(separator: ", "))")
            }
        }
        return reasons
    }

    /// The dataset with this ID, if it exists.
    func dataset(_ session: any SQLSession, id: UUID) throws -> DatasetRef? {
        guard
            let row = try session.queryOne(
                "SELECT dataset_type_id, run_id FROM dataset WHERE id = ?", [.uuid(id)])
        else { return nil }
        let typeRecord = try datasetTypeRecord(session, id: row[0].int64!)
        let run = try collection(session, id: row[1].int64!)
        let dims = typeRecord.datasetType.dimensions.required
        let sql =
            "SELECT " + dims.map { dialect.quote($0) }.joined(separator: ", ")
            + " FROM \(typeRecord.tagTable) WHERE dataset_id = ? AND collection_id = ?"
        guard let tag = try session.queryOne(sql, [.uuid(id), .integer(run.id)]) else {
            throw ButlerError.datasetNotFound(
                "dataset \(id.uuidString.lowercased()) has no entry in its run '\(run.name)' (corrupt registry?)")
        }
        var values: [String: DataIdValue] = [:]
        for (index, name) in dims.enumerated() { values[name] = Self.dataIdValue(tag[index]) }
        return DatasetRef(
            id: id, datasetType: typeRecord.datasetType,
            dataId: DataCoordinate(dimensions: typeRecord.datasetType.dimensions, values: values), run: run.name)
    }

    /// Datasets of one type in the search path that satisfy `predicate`; with `findFirst`, only
    /// the first match per data ID along the path. Each dataset once, sorted by run and data ID.
    func queryDatasets(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, in path: [CollectionRecord],
        where predicate: QueryExpression?, bind: [String: BindValue], findFirst: Bool
    ) throws -> [DatasetRef] {
        var joined = DistinctRefs()
        let matches = try datasetMatches(session, typeRecord, in: path, where: predicate, bind: bind, findFirst: findFirst, into: &joined)
        guard matches.temporal.isEmpty else {
            // A temporal join lists a calibration once per exposure it serves; a query of
            // datasets names each once, by run and data ID.
            return joined.refs.sorted { lhs, rhs in
                if lhs.run != rhs.run { return lhs.run < rhs.run }
                return lhs.dataId.requiredValuesPrecede(rhs.dataId)
            }
        }
        return matches.refs
    }

    /// The datasets of one type in the search path that satisfy `predicate`.
    ///
    /// For a calibration type, a predicate naming temporal dimensions the type lacks
    /// (`exposure = 42`, `visit.day_obs = 20240101`) joins their records, and a dataset in a
    /// CALIBRATION collection matches each record whose timespan its validity range overlaps
    /// (a temporal join, in the same statement); find-first is then per data ID *and*
    /// temporal values, and two datasets valid at one time in the first collection holding
    /// any is an ambiguity error. Without temporal dimensions a CALIBRATION collection lists
    /// everything certified in it.
    ///
    /// `joining` names temporal dimensions to join even where the predicate does not name them.
    /// Without a temporal join the datasets are returned, sorted by run and data ID; with one,
    /// each match goes to `sink` as it is read (a million matches are not held twice) and none
    /// is returned.
    func datasetMatches<Sink: DatasetMatchSink>(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, in path: [CollectionRecord],
        where predicate: QueryExpression?, bind: [String: BindValue], findFirst: Bool, joining: [String] = [],
        into sink: inout Sink
    ) throws -> (temporal: [String], refs: [DatasetRef]) {
        let datasetType = typeRecord.datasetType
        for name in joining {
            guard let element = universe.elements[name], element.isDimension, element.hasTimespan, datasetType.isCalibration,
                !datasetType.dimensions.names.contains(name)
            else {
                throw ButlerError.query(
                    "cannot join \(name) to \(datasetType.name): only a calibration type joins temporal dimensions it lacks (exposure, visit, day_obs)"
                )
            }
        }
        let temporal =
            datasetType.isCalibration
            ? universe.sorted(Set(temporalDimensions(in: predicate, beyond: datasetType.dimensions) + joining)) : []
        guard !path.isEmpty else { return (temporal, []) }
        let dims = datasetType.dimensions.required
        var calibrations: [CollectionRecord] = []
        var calibTableName: String?
        if datasetType.isCalibration, path.contains(where: { $0.type == .calibration }) {
            calibTableName = try calibTable(session, for: datasetType.dimensions, create: false)
            if calibTableName != nil { calibrations = path.filter { $0.type == .calibration } }
        }
        let tagged = path.filter { $0.type != .calibration }
        let context = "query for \(datasetType.name)"
        // A constraint on spatial dimensions the type lacks (`visit = 1 AND detector = 2` for a
        // deepCoadd by tract and patch) joins their records where the regions overlap.
        let spatial = try spatialPlan(base: datasetType.dimensions, where: predicate, bind: bind)
        var regionFilters: [RegionFilter] = []
        /// One SELECT over the tag table or the calibration table, which share their columns.
        func select(table: String, collections: [CollectionRecord], validity: Bool) throws -> (String, [SQLValue]) {
            var builder = QueryBuilder(universe: universe, dialect: dialect)
            builder.base(table: table, alias: "t", dimensions: dims)
            builder.datasetAlias = "t"
            builder.datasetFields = (datasetType.name, typeRecord.fieldTable, datasetType.fields)
            builder.available.formUnion(datasetType.dimensions.implied)
            var temporalColumns: [String] = []
            var conditions: [String] = []
            for name in temporal {
                let element = universe.elements[name]!
                // What the record implies agrees with the dataset's own dimensions (a flat's
                // physical_filter is the exposure's): the join says so.
                let alias = builder.joinElement(element, keySources: [:])
                temporalColumns.append(try builder.source(forDimension: name, context: context))
                let table = Self.dimensionTable(name)
                conditions.append(
                    validity
                        // The last term bounds the records' begin from below as well (no record is
                        // longer than the longest), so the index on the begin serves the join.
                        ? "t.validity_begin < \(alias).timespan_end AND \(alias).timespan_begin < t.validity_end"
                            + " AND \(alias).timespan_begin > t.validity_begin"
                            + " - (SELECT MAX(x.timespan_end - x.timespan_begin) FROM \(table) x)"
                        : "\(alias).timespan_begin IS NOT NULL")
            }
            for name in spatial.dimensions.required where !datasetType.dimensions.names.contains(name) && !temporal.contains(name) {
                guard let element = universe.elements[name], !element.isSkypix else { continue }
                builder.joinElement(element, keySources: [:])
            }
            builder.joinImplied(agreeingWith: Set(datasetType.dimensions.names))
            if spatial.families.count >= 2 { try builder.joinSpatially(spatial.families, context: context) }
            let condition = try predicate.map { try builder.compile($0, bind: bind, context: context) }
            regionFilters = builder.regionFilters
            var sql =
                "SELECT t.dataset_id, t.collection_id, t.run_id"
                + dims.map { ", t.\(dialect.quote($0))" }.joined()
                + temporalColumns.map { ", " + $0 }.joined()
                + RegionFilterEvaluator(builder.regionFilters).columns.map { ", " + $0 }.joined()
                + " FROM " + builder.fromClause
                + " WHERE t.dataset_type_id = ? AND t.collection_id IN ("
                + Array(repeating: "?", count: collections.count).joined(separator: ", ") + ")"
            var arguments: [SQLValue] = [.integer(typeRecord.id)] + collections.map { .integer($0.id) }
            for extra in conditions { sql += " AND " + extra }
            if let condition {
                sql += " AND " + condition.sql
                arguments += condition.arguments
            }
            return (sql, arguments)
        }
        var statements: [(String, [SQLValue])] = []
        if !tagged.isEmpty { statements.append(try select(table: typeRecord.tagTable, collections: tagged, validity: false)) }
        if let calibTableName, !calibrations.isEmpty {
            statements.append(try select(table: calibTableName, collections: calibrations, validity: true))
        }
        var sql = statements.map(\.0).joined(separator: " UNION ALL ")
        // A temporal join is ordered by its full data ID, so that the rows of one data ID are
        // adjacent: find-first and the ambiguity check then need no hashing of a million keys.
        let fullKey = universe.sorted(dims + temporal).map { dims.firstIndex(of: $0) ?? dims.count + temporal.firstIndex(of: $0)! }
        if !temporal.isEmpty { sql += " ORDER BY " + fullKey.map { String(4 + $0) }.joined(separator: ", ") }
        let rank = Dictionary(uniqueKeysWithValues: path.enumerated().map { ($1.id, $0) })
        if !temporal.isEmpty {
            var grouper = TemporalGrouper(
                sink: sink, datasetType: datasetType, keyNames: universe.sorted(dims + temporal), keyColumns: fullKey.map { 3 + $0 },
                rank: rank, findFirst: findFirst,
                runName: { [unowned self] value in try self.collection(session, id: value.int64!).name })
            var evaluator = RegionFilterEvaluator(regionFilters)
            let filterOffset = 3 + dims.count + temporal.count
            try session.forEachRow(sql, statements.flatMap(\.1)) { row in
                if !evaluator.isEmpty, !(try evaluator.passes(offset: filterOffset, { row[$0] })) { return }
                try grouper.consume(row)
            }
            try grouper.close()
            sink = grouper.sink
            return (temporal, [])
        }
        var rows = try session.query(sql, statements.flatMap(\.1))
        var evaluator = RegionFilterEvaluator(regionFilters)
        if !evaluator.isEmpty {
            let offset = 3 + dims.count
            rows = try rows.filter { row in try evaluator.passes(offset: offset, { row[$0] }) }
        }
        var chosen: [DataCoordinate: (rank: Int, row: SQLRow)] = [:]
        var ambiguous: [DataCoordinate: [SQLRow]] = [:]
        // One collection holds a dataset once; only a longer path (or a CALIBRATION collection
        // certifying it for several ranges), or a spatial join (one row per overlapping
        // record), can list it twice.
        var seenIds: Set<UUID>? = path.count > 1 || !calibrations.isEmpty || spatial.families.count >= 2 ? [] : nil
        var ordered: [(DataCoordinate, SQLRow)] = []
        ordered.reserveCapacity(rows.count)
        let capacity = datasetType.dimensions.names.count
        for row in rows {
            var values: [DataIdValue?] = []
            values.reserveCapacity(capacity)
            for index in dims.indices { values.append(Self.dataIdValue(row[3 + index])) }
            let coordinate = DataCoordinate(dimensions: datasetType.dimensions, requiredValues: values)
            if findFirst {
                let rowRank = rank[row[1].int64!]!
                if let current = chosen[coordinate] {
                    if current.rank < rowRank { continue }
                    if current.rank == rowRank {
                        // Only a CALIBRATION collection can hold two datasets for one data ID.
                        if current.row[0] != row[0] { ambiguous[coordinate, default: [current.row]].append(row) }
                        continue
                    }
                    ambiguous[coordinate] = nil
                }
                chosen[coordinate] = (rowRank, row)
            } else if seenIds?.insert(row[0].uuidValue!).inserted ?? true {
                ordered.append((coordinate, row))
            }
        }
        var runNames: [Int64: String] = [:]
        if findFirst {
            if let (dataId, candidates) = ambiguous.first(where: { chosen[$0.key]?.row[1] == $0.value[0][1] }) {
                throw Self.ambiguity(
                    datasetType.name, "\(dataId)", in: try collection(session, id: candidates[0][1].int64!).name,
                    try candidates.map { "\($0[0].uuidValue!.uuidString.lowercased()) (run '\(try runName(session, $0[2], &runNames))')" },
                    hint: "; constrain the query by time (an exposure or visit in --where)")
            }
            ordered = chosen.map { ($0.key, $0.value.row) }
        }
        var refs: [DatasetRef] = []
        refs.reserveCapacity(ordered.count)
        for (dataId, row) in ordered {
            refs.append(
                DatasetRef(id: row[0].uuidValue!, datasetType: datasetType, dataId: dataId, run: try runName(session, row[2], &runNames)))
        }
        // By run, then data ID. Every ref of a run shares one String, so the run comparison
        // is a pointer check for most pairs.
        refs.sort { lhs, rhs in
            if lhs.run != rhs.run { return lhs.run < rhs.run }
            return lhs.dataId.requiredValuesPrecede(rhs.dataId)
        }
        return (temporal, refs)
    }

    /// The name of the run whose key `value` holds, through a per-query cache.
    private func runName(_ session: any SQLSession, _ value: SQLValue, _ cache: inout [Int64: String]) throws -> String {
        let id = value.int64!
        if let known = cache[id] { return known }
        let name = try collection(session, id: id).name
        cache[id] = name
        return name
    }

    /// Two or more datasets found for one data ID in one collection at the time asked: an
    /// ambiguity, naming each (`candidates`: ID, run, and validity where known).
    static func ambiguity(_ typeName: String, _ dataId: String, in collection: String?, _ candidates: [String], hint: String) -> ButlerError
    {
        ButlerError(
            .ambiguousCalibration,
            "\(typeName)@\(dataId) matches \(candidates.count) datasets in \(collection.map { "'\($0)'" } ?? "one collection"): "
                + candidates.joined(separator: " and ") + hint)
    }

    /// The temporal dimensions (with timespans) `predicate` names that `group` lacks.
    func temporalDimensions(in predicate: QueryExpression?, beyond group: DimensionGroup) -> [String] {
        guard let predicate else { return [] }
        var names = Set<String>()
        for identifier in predicate.identifiers {
            let head = identifier.split(separator: ".", maxSplits: 1).first.map(String.init) ?? identifier
            let name = universe.aliases[head] ?? head
            guard let element = universe.elements[name], element.isDimension, element.hasTimespan, !group.names.contains(name) else {
                continue
            }
            names.insert(name)
        }
        return universe.sorted(names)
    }

    /// Adds datasets to a TAGGED collection (one per dataset type and data ID).
    func associate(_ session: any SQLSession, tag name: String, refs: [DatasetRef]) throws {
        let tag = try collection(session, named: name)
        guard tag.type == .tagged else {
            throw ButlerError.collection("'\(name)' is \(tag.type.rawValue); datasets can only be associated with TAGGED collections")
        }
        for ref in refs {
            let typeRecord = try datasetTypeRecord(session, named: ref.datasetType.name)
            if let existing = try find(session, typeRecord, ref.dataId, in: [tag]) {
                if existing.id == ref.id { continue }
                throw ButlerError.datasetExists("tagged collection '\(name)' already holds \(existing); cannot also tag \(ref)")
            }
            try insertTag(session, typeRecord, ref, collection: tag, runId: try collection(session, named: ref.run).id)
        }
    }

    /// Removes datasets from a TAGGED collection.
    func disassociate(_ session: any SQLSession, tag name: String, refs: [DatasetRef]) throws {
        let tag = try collection(session, named: name)
        guard tag.type == .tagged else {
            throw ButlerError.collection("'\(name)' is \(tag.type.rawValue); only TAGGED collections can be disassociated from")
        }
        for ref in refs {
            let typeRecord = try datasetTypeRecord(session, named: ref.datasetType.name)
            try session.execute(
                "DELETE FROM \(typeRecord.tagTable) WHERE collection_id = ? AND dataset_id = ?",
                [.integer(tag.id), .uuid(ref.id)])
        }
    }

    /// The IDs of every dataset in a RUN.
    func datasetIds(_ session: any SQLSession, inRun run: CollectionRecord) throws -> [UUID] {
        try session.query("SELECT id FROM dataset WHERE run_id = ?", [.integer(run.id)]).compactMap { $0[0].uuidValue }
    }

    /// Deletes datasets and every association of them (tags rows cascade).
    func deleteDatasets(_ session: any SQLSession, ids: [UUID]) throws {
        for id in ids {
            try session.execute("DELETE FROM dataset WHERE id = ?", [.uuid(id)])
        }
    }
}

/// Where the rows of a temporal join go, one match at a time.
protocol DatasetMatchSink {
    /// One match: the dataset and the values of the full data ID (universe order), in a
    /// buffer the grouper reuses: a sink that keeps them copies them.
    mutating func add(_ ref: DatasetRef, _ key: [DataIdValue?]) throws
}

/// The distinct datasets of a temporal join, in the order first met.
struct DistinctRefs: DatasetMatchSink {
    var refs: [DatasetRef] = []
    private var seen = Set<UUID>()

    mutating func add(_ ref: DatasetRef, _ key: [DataIdValue?]) {
        if seen.insert(ref.id).inserted { refs.append(ref) }
    }
}

/// Groups the rows of a temporal join, ordered by the full data ID, in one pass: the rows of
/// one data ID are adjacent, so find-first keeps the best-ranked of each group and two datasets
/// at that rank are an ambiguity, with no hashing of keys. A struct with its state inline, run
/// by a non-escaping closure: the per-row path allocates nothing (the data ID's values go to the
/// sink in a reused buffer).
struct TemporalGrouper<Sink: DatasetMatchSink> {
    var sink: Sink
    let datasetType: DatasetType
    /// The full data ID's dimensions and their columns in the row, in universe order.
    let keyNames: [String]
    let keyColumns: [Int]
    let rank: [Int64: Int]
    let findFirst: Bool
    let runName: (SQLValue) throws -> String
    private let oneCollection: Bool
    private let comparisonOrder: [Int]
    private var key: [DataIdValue?] = []
    private var keyValues: [SQLValue] = []
    /// The first row's dataset of the data ID being read, and any further rows'.
    private var first: (ref: DatasetRef, rank: Int)?
    private var more: [(ref: DatasetRef, rank: Int)] = []
    private var refs: [SQLValue: DatasetRef] = [:]
    private var last: (id: SQLValue, ref: DatasetRef)?

    init(
        sink: Sink, datasetType: DatasetType, keyNames: [String], keyColumns: [Int], rank: [Int64: Int], findFirst: Bool,
        runName: @escaping (SQLValue) throws -> String
    ) {
        self.sink = sink
        self.datasetType = datasetType
        self.keyNames = keyNames
        self.keyColumns = keyColumns
        self.rank = rank
        self.findFirst = findFirst
        self.runName = runName
        oneCollection = Set(rank.values).count == 1
        // The temporal dimension changes most often: compared first.
        comparisonOrder = Array(keyColumns.indices.reversed())
    }

    mutating func consume(_ row: SQLRowCursor) throws {
        if first != nil, !sameKey(row) { try close() }
        if first == nil {
            keyValues.removeAll(keepingCapacity: true)
            key.removeAll(keepingCapacity: true)
            for column in keyColumns {
                let value = row[column]
                keyValues.append(value)
                key.append(Registry.dataIdValue(value))
            }
        }
        let entry = (ref: try ref(row), rank: oneCollection ? 0 : rank[row.integer(1)!]!)
        if first == nil { first = entry } else { more.append(entry) }
    }

    private func sameKey(_ row: SQLRowCursor) -> Bool {
        for position in comparisonOrder {
            let column = keyColumns[position]
            if case .integer(let known) = keyValues[position] {
                guard row.integer(column) == known else { return false }
            } else if row[column] != keyValues[position] {
                return false
            }
        }
        return true
    }

    /// The dataset of a row, made once per dataset (consecutive rows mostly share one).
    private mutating func ref(_ row: SQLRowCursor) throws -> DatasetRef {
        let id = row[0]
        if let last, last.id == id { return last.ref }
        if let known = refs[id] {
            last = (id, known)
            return known
        }
        var values: [DataIdValue?] = []
        for index in datasetType.dimensions.required.indices { values.append(Registry.dataIdValue(row[3 + index])) }
        let made = DatasetRef(
            id: id.uuidValue!, datasetType: datasetType,
            dataId: DataCoordinate(dimensions: datasetType.dimensions, requiredValues: values), run: try runName(row[2]))
        refs[id] = made
        last = (id, made)
        return made
    }

    /// Hands the data ID being read to the sink.
    mutating func close() throws {
        guard let chosen = first else { return }
        defer {
            first = nil
            more.removeAll(keepingCapacity: true)
        }
        // The common case: one row for the data ID, nothing to choose between.
        if more.isEmpty { return try sink.add(chosen.ref, key) }
        let group = [chosen] + more
        if findFirst {
            let bestRank = group.map(\.rank).min()!
            var candidates: [DatasetRef] = []
            for entry in group where entry.rank == bestRank && !candidates.contains(where: { $0.id == entry.ref.id }) {
                candidates.append(entry.ref)
            }
            if candidates.count > 1 {
                let described = zip(keyNames, key).map { "\($0): \($1.map(String.init(describing:)) ?? "?")" }
                throw Registry.ambiguity(
                    datasetType.name, "{" + described.joined(separator: ", ") + "}", in: nil,
                    candidates.map { "\($0.id.uuidString.lowercased()) (run '\($0.run)')" }, hint: "")
            }
            try sink.add(candidates[0], key)
        } else {
            var seen: [UUID] = []
            for entry in group where !seen.contains(entry.ref.id) {
                seen.append(entry.ref.id)
                try sink.add(entry.ref, key)
            }
        }
    }
}

import Foundation

/// Datasets: insertion into a RUN, find-first lookup, queries, tagging, deletion.
extension Registry {
    /// Inserts a new dataset into its RUN collection.
    /// - Throws: ``ButlerError/Code/conflict`` naming the existing ref when the run
    ///   already holds a dataset of this type and data ID, or the ID is taken.
    func insertDataset(_ session: any SQLSession, _ ref: DatasetRef, type typeRecord: DatasetTypeRecord) throws {
        guard let run = try findCollection(session, named: ref.run) else {
            throw ButlerError.collection("run '\(ref.run)' does not exist (register it, or pass a run to put)")
        }
        guard run.type == .run else {
            throw ButlerError.collection("'\(ref.run)' is a \(run.type.rawValue) collection; datasets can only be put into RUN collections")
        }
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
            "INSERT INTO \(typeRecord.tagTable) (dataset_type_id, collection_id, dataset_id, run_id, "
            + dims.map { dialect.quote($0) }.joined(separator: ", ") + ") VALUES (?, ?, ?, ?"
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
    func findRanked(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord],
        attaching attachment: AttachedTable? = nil
    ) throws -> Found? {
        guard !path.isEmpty else { return nil }
        let dims = typeRecord.datasetType.dimensions.required
        let collectionCondition =
            path.count == 1
            ? "t.collection_id = ?" : "t.collection_id IN (" + Array(repeating: "?", count: path.count).joined(separator: ", ") + ")"
        let join = attachment.map { $0.join(onDatasetIdOf: "t", alias: "a", dialect: dialect) }
        let sql =
            "SELECT t.dataset_id, t.collection_id, t.run_id"
            + (join.map { ", " + $0.columns } ?? "")
            + " FROM \(typeRecord.tagTable) t " + (join.map { $0.clause + " " } ?? "")
            + "WHERE t.dataset_type_id = ? AND "
            + dims.map { "t.\(dialect.quote($0)) = ?" }.joined(separator: " AND ")
            + " AND " + collectionCondition
        let arguments: [SQLValue] =
            (join?.arguments ?? []) + [.integer(typeRecord.id)] + dims.map { Self.sqlValue(dataId[$0]!) }
            + path.map { .integer($0.id) }
        let rows = try session.query(sql, arguments)
        guard !rows.isEmpty else { return nil }
        let rank = Dictionary(uniqueKeysWithValues: path.enumerated().map { ($1.id, $0) })
        let best = rows.min { rank[$0[1].int64!]! < rank[$1[1].int64!]! }!
        let run = try collection(session, id: best[2].int64!)
        let coordinate = DataCoordinate(dimensions: typeRecord.datasetType.dimensions, values: dataId.requiredMapping)
        let id = best[0].uuidValue!
        // With a join, the found dataset spans one row per attached row (all in its collection).
        let attached =
            attachment == nil
            ? []
            : rows
                .filter { $0[1].int64 == best[1].int64 && $0[0].uuidValue == id }
                .map { $0.values[3...] }
        return Found(
            ref: DatasetRef(id: id, datasetType: typeRecord.datasetType, dataId: coordinate, run: run.name), rank: rank[best[1].int64!]!,
            attached: attached)
    }

    /// Why a find of `dataId` along `path` found nothing: data-ID values without a dimension
    /// record, and whether the dataset type has any dataset in those collections at all.
    func whyNotFound(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord]
    ) throws -> [String] {
        var reasons: [String] = []
        for name in dataId.dimensions.required {
            guard let element = universe.elements[name], !element.isSkypix, let value = dataId[name] else { continue }
            let parents = universe.requiredClosure(of: element)
            let key = parents.compactMap { dataId[$0] } + [value]
            guard key.count == parents.count + 1, try fetchRecord(session, element: element, key: key) == nil else { continue }
            let owner = parents.last.flatMap { parent in dataId[parent].map { " of \(parent) \($0)" } } ?? ""
            reasons.append("\(name)=\(value) is not a known \(name)\(owner)")
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
    /// the first match per data ID along the path.
    func queryDatasets(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, in path: [CollectionRecord],
        where predicate: QueryExpression?, bind: [String: BindValue], findFirst: Bool
    ) throws -> [DatasetRef] {
        guard !path.isEmpty else { return [] }
        let datasetType = typeRecord.datasetType
        let dims = datasetType.dimensions.required
        var builder = QueryBuilder(universe: universe, dialect: dialect)
        builder.base(table: typeRecord.tagTable, alias: "t", dimensions: dims)
        builder.datasetAlias = "t"
        builder.available.formUnion(datasetType.dimensions.implied)
        let condition = try predicate.map { try builder.compile($0, bind: bind, context: "query for \(datasetType.name)") }
        var sql =
            "SELECT t.dataset_id, t.collection_id, t.run_id"
            + dims.map { ", t.\(dialect.quote($0))" }.joined()
            + " FROM " + builder.fromClause
            + " WHERE t.dataset_type_id = ? AND t.collection_id IN ("
            + Array(repeating: "?", count: path.count).joined(separator: ", ") + ")"
        var arguments: [SQLValue] = [.integer(typeRecord.id)] + path.map { .integer($0.id) }
        if let condition {
            sql += " AND " + condition.sql
            arguments += condition.arguments
        }
        let rows = try session.query(sql, arguments)
        let rank = Dictionary(uniqueKeysWithValues: path.enumerated().map { ($1.id, $0) })
        var chosen: [DataCoordinate: (rank: Int, row: SQLRow)] = [:]
        // One collection holds a dataset once; only a longer path can list it twice.
        var seenIds: Set<UUID>? = path.count > 1 ? [] : nil
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
                if let current = chosen[coordinate], current.rank <= rowRank { continue }
                chosen[coordinate] = (rowRank, row)
            } else if seenIds?.insert(row[0].uuidValue!).inserted ?? true {
                ordered.append((coordinate, row))
            }
        }
        if findFirst { ordered = chosen.map { ($0.key, $0.value.row) } }
        var runNames: [Int64: String] = [:]
        var refs: [DatasetRef] = []
        refs.reserveCapacity(ordered.count)
        for (coordinate, row) in ordered {
            let runId = row[2].int64!
            let run: String
            if let known = runNames[runId] {
                run = known
            } else {
                run = try collection(session, id: runId).name
                runNames[runId] = run
            }
            refs.append(DatasetRef(id: row[0].uuidValue!, datasetType: datasetType, dataId: coordinate, run: run))
        }
        // By run, then data ID. Every ref of a run shares one String, so the run comparison
        // is a pointer check for most pairs.
        refs.sort { lhs, rhs in
            if lhs.run != rhs.run { return lhs.run < rhs.run }
            return lhs.dataId.requiredValuesPrecede(rhs.dataId)
        }
        return refs
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

/// Queries that span several tables: dataset types by pattern, and distinct data IDs from
/// dimension records or from the datasets of one type. Their SQL is built here, from the
/// query tree (``QueryBuilder``), never by callers.
extension Registry {
    /// The dataset types named or matched (`*`, `?` globs) by `patterns`, in order; every type
    /// when `patterns` is empty.
    /// - Throws: ``ButlerError/Code/missingDatasetType`` for a plain name that is not registered.
    func datasetTypeRecords(_ session: any SQLSession, matching patterns: [String]) throws -> [DatasetTypeRecord] {
        let types =
            patterns.isEmpty
            ? try datasetTypes(session)
            : try patterns.flatMap { pattern -> [DatasetType] in
                if pattern.contains("*") || pattern.contains("?") { return try datasetTypes(session, matching: [pattern]) }
                return [try datasetTypeRecord(session, named: pattern).datasetType]
            }
        return try types.map { try datasetTypeRecord(session, named: $0.name) }
    }

    /// Distinct data IDs of `group`, sorted: from dimension records, or, when `datasetType`
    /// names one, from the data IDs of its datasets in the collections `names` resolve to.
    func queryDataIds(
        _ session: any SQLSession, _ group: DimensionGroup, datasetType: String?, in names: [String], where predicate: QueryExpression?,
        bind: [String: BindValue]
    ) throws -> [DataCoordinate] {
        var builder = QueryBuilder(universe: universe, dialect: dialect)
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let datasetType {
            let record = try datasetTypeRecord(session, named: datasetType)
            let available = Set(record.datasetType.dimensions.names)
            if let missing = group.required.first(where: { !available.contains($0) }) {
                throw ButlerError.query(
                    "dataset type \(datasetType) has no dimension '\(missing)' (it has \(record.datasetType.dimensions))")
            }
            let path = try searchPath(session, names)
            if path.isEmpty { return [] }
            builder.base(table: record.tagTable, alias: "t", dimensions: record.datasetType.dimensions.required)
            builder.available.formUnion(record.datasetType.dimensions.implied)
            conditions.append("t.dataset_type_id = ?")
            arguments.append(.integer(record.id))
            conditions.append("t.collection_id IN (" + Array(repeating: "?", count: path.count).joined(separator: ", ") + ")")
            arguments += path.map { .integer($0.id) }
        } else {
            for name in group.required {
                guard let element = universe.elements[name] else { throw ButlerError.unknownDimension(name, known: universe.order) }
                if element.isSkypix {
                    throw ButlerError.query("sky pixelization '\(name)' has no records; query it through a dataset type")
                }
                builder.joinElement(element, keySources: [:])
            }
        }
        let context = "data ID query for \(group)"
        var selected: [String] = []
        for name in group.required { selected.append(try builder.source(forDimension: name, context: context)) }
        if let predicate {
            let compiled = try builder.compile(predicate, bind: bind, context: context)
            conditions.append(compiled.sql)
            arguments += compiled.arguments
        }
        let sql =
            "SELECT DISTINCT " + selected.joined(separator: ", ") + " FROM " + builder.fromClause
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY " + selected.joined(separator: ", ")
        return try session.query(sql, arguments).map { row in
            var values: [String: DataIdValue] = [:]
            for (index, name) in group.required.enumerated() { values[name] = Self.dataIdValue(row[index]) }
            return DataCoordinate(dimensions: group, values: values)
        }
    }
}

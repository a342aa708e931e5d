extension Butler {
    /// Datasets of the types matching `datasetTypes` (globs) in `collections`, constrained by
    /// a where-expression and/or data ID. With `findFirst`, only the first dataset per data ID
    /// along the collection search path is returned.
    public func queryDatasets(
        _ datasetTypes: [String], collections: [String]? = nil, where expression: String? = nil,
        dataId: DataId = [:], bind: [String: DataIdValue] = [:], findFirst: Bool = false
    ) async throws -> [DatasetRef] {
        let predicate = QueryExpression.conjunction(try expression.map(QueryExpression.parse), QueryExpression.dataId(dataId))
        return try await queryDatasets(datasetTypes, collections: collections, predicate: predicate, bind: bind, findFirst: findFirst)
    }

    /// ``queryDatasets(_:collections:where:dataId:bind:findFirst:)`` with a built expression.
    public func queryDatasets(
        _ datasetTypes: [String], collections: [String]? = nil, predicate: QueryExpression?,
        bind: [String: DataIdValue] = [:], findFirst: Bool = false
    ) async throws -> [DatasetRef] {
        let names = try searchCollections(collections, for: "queryDatasets")
        if findFirst, names.contains(where: { $0.contains("*") || $0.contains("?") }) {
            throw ButlerError.query("find-first needs an ordered list of collections, not patterns: \(names)")
        }
        let registry = self.registry
        return try await registry.database.read { session in
            let types = datasetTypes.isEmpty ? try registry.datasetTypes(session)
                : try datasetTypes.flatMap { pattern -> [DatasetType] in
                    if pattern.contains("*") || pattern.contains("?") { return try registry.datasetTypes(session, matching: [pattern]) }
                    return [try registry.datasetTypeRecord(session, named: pattern)!.datasetType]
                }
            let path = try registry.searchPath(session, names)
            var refs: [DatasetRef] = []
            for type in types {
                let record = try registry.datasetTypeRecord(session, named: type.name)!
                refs += try registry.queryDatasets(session, record, in: path, where: predicate, bind: bind, findFirst: findFirst)
            }
            return refs
        }
    }

    /// Distinct data IDs for `dimensions`: from dimension records, or, when `datasets` names a
    /// dataset type, from the data IDs of its datasets in `collections`.
    public func queryDataIds(
        _ dimensions: [String], datasets: String? = nil, collections: [String]? = nil,
        where expression: String? = nil, dataId: DataId = [:], bind: [String: DataIdValue] = [:]
    ) async throws -> [DataCoordinate] {
        let predicate = QueryExpression.conjunction(try expression.map(QueryExpression.parse), QueryExpression.dataId(dataId))
        let group = try universe.group(dimensions)
        let names = try datasets == nil ? [] : searchCollections(collections, for: "queryDataIds")
        let registry = self.registry
        let universe = self.universe
        return try await registry.database.read { session in
            var builder = QueryBuilder(universe: universe, dialect: registry.dialect)
            var conditions: [String] = []
            var arguments: [SQLValue] = []
            if let datasets {
                let record = try registry.datasetTypeRecord(session, named: datasets)!
                let available = Set(record.datasetType.dimensions.names)
                if let missing = group.required.first(where: { !available.contains($0) }) {
                    throw ButlerError.query("dataset type \(datasets) has no dimension '\(missing)' (it has \(record.datasetType.dimensions))")
                }
                let path = try registry.searchPath(session, names)
                if path.isEmpty { return [] }
                builder.base(table: record.tagTable, alias: "t", dimensions: record.datasetType.dimensions.required)
                builder.available.formUnion(record.datasetType.dimensions.implied)
                conditions.append("t.dataset_type_id = ?")
                arguments.append(.integer(record.id))
                conditions.append("t.collection_id IN (" + Array(repeating: "?", count: path.count).joined(separator: ", ") + ")")
                arguments += path.map { .integer($0.id) }
            } else {
                for name in group.required {
                    let element = universe.elements[name]!
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
            let sql = "SELECT DISTINCT " + selected.joined(separator: ", ") + " FROM " + builder.fromClause
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                + " ORDER BY " + selected.joined(separator: ", ")
            return try session.query(sql, arguments).map { row in
                var values: [String: DataIdValue] = [:]
                for (index, name) in group.required.enumerated() { values[name] = Registry.dataIdValue(row[index]) }
                return DataCoordinate(dimensions: group, values: values)
            }
        }
    }
}

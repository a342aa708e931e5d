/// Queries: datasets and data IDs, constrained by daf_butler's where-language.
extension Butler {
    /// Datasets of the types matching `datasetTypes` (globs; all when empty) in `collections`,
    /// constrained by a where-expression (with `bind` values for its `:names`) and/or data ID.
    /// Over several types, a constraint on a dimension a type lacks leaves that type out. With
    /// `findFirst`, only the first dataset per data ID along the collection search path is
    /// returned.
    public func queryDatasets(
        _ datasetTypes: [String], collections: [String]? = nil, where expression: String? = nil,
        dataId: DataId = [:], bind: [String: BindValue] = [:], findFirst: Bool = false
    ) async throws -> [DatasetRef] {
        let predicate = QueryExpression.conjunction(try expression.flatMap(QueryExpression.parseOptional), QueryExpression.dataId(dataId))
        return try await queryDatasets(datasetTypes, collections: collections, predicate: predicate, bind: bind, findFirst: findFirst)
    }

    /// ``queryDatasets(_:collections:where:dataId:bind:findFirst:)`` with a built expression.
    public func queryDatasets(
        _ datasetTypes: [String], collections: [String]? = nil, predicate: QueryExpression?,
        bind: [String: BindValue] = [:], findFirst: Bool = false
    ) async throws -> [DatasetRef] {
        let names = try searchCollections(collections, for: "queryDatasets")
        if findFirst, names.contains(where: { $0.contains("*") || $0.contains("?") }) {
            throw ButlerError.query("find-first needs an ordered list of collections, not patterns: \(names)")
        }
        let registry = self.registry
        return try await registry.database.read { session in
            let records = try registry.datasetTypeRecords(session, matching: datasetTypes)
            let path = try registry.searchPath(session, names)
            // One type named outright must take every constraint; among several (a pattern, or
            // all types), a constraint on a dimension a type lacks leaves that type out.
            let several = records.count > 1 || datasetTypes.isEmpty || datasetTypes.contains { $0.contains("*") || $0.contains("?") }
            var refs: [DatasetRef] = []
            for record in records {
                do {
                    refs += try registry.queryDatasets(session, record, in: path, where: predicate, bind: bind, findFirst: findFirst)
                } catch let error as ButlerError where several && error.cause is UnrelatedDimension {
                    continue
                }
            }
            return refs
        }
    }

    /// Distinct data IDs for `dimensions`: from dimension records, or, when `datasets` names a
    /// dataset type, from the data IDs of its datasets in `collections`.
    public func queryDataIds(
        _ dimensions: [String], datasets: String? = nil, collections: [String]? = nil,
        where expression: String? = nil, dataId: DataId = [:], bind: [String: BindValue] = [:]
    ) async throws -> [DataCoordinate] {
        let predicate = QueryExpression.conjunction(try expression.flatMap(QueryExpression.parseOptional), QueryExpression.dataId(dataId))
        let group = try universe.group(dimensions)
        let names = try datasets == nil ? [] : searchCollections(collections, for: "queryDataIds")
        let registry = self.registry
        return try await registry.database.read { session in
            try registry.queryDataIds(session, group, datasetType: datasets, in: names, where: predicate, bind: bind)
        }
    }
}

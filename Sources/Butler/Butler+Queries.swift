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
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
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
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
        let group = try universe.group(dimensions)
        let names = try datasets == nil ? [] : searchCollections(collections, for: "queryDataIds")
        let registry = self.registry
        return try await registry.database.read { session in
            try registry.queryDataIds(session, group, datasetType: datasets, in: names, where: predicate, bind: bind)
        }
    }
}

/// Why a query came back empty (daf_butler's `explain_no_results`, as data).
extension Butler {
    /// Why ``queryDatasets(_:collections:where:dataId:bind:findFirst:)`` with these arguments
    /// finds nothing: no such dataset type, no datasets of it in the collections, a data ID value
    /// without a record, the where-terms that each match nothing alone (run one by one), or
    /// that each matches but not together. Empty when the query does find something.
    public func explainNoDatasets(
        _ datasetTypes: [String], collections: [String]? = nil, where expression: String? = nil, dataId: DataId = [:],
        bind: [String: BindValue] = [:]
    ) async throws -> [String] {
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
        let names = try searchCollections(collections, for: "explainNoDatasets")
        let registry = self.registry
        return try await registry.database.read { session in
            let records = try registry.datasetTypeRecords(session, matching: datasetTypes)
            if records.isEmpty { return ["no dataset type matches \(datasetTypes.isEmpty ? ["*"] : datasetTypes)"] }
            let path = try registry.searchPath(session, names)
            if path.isEmpty { return ["the collections \(names) hold no collection with datasets"] }
            var reasons: [String] = []
            var unrelated: [String] = []
            for record in records {
                let name = record.datasetType.name
                func matches(_ term: QueryExpression?) throws -> Bool {
                    let used = term?.possibleBindNames ?? []
                    var joined = DistinctRefs()
                    let found = try registry.datasetMatches(
                        session, record, in: path, where: term, bind: bind.filter { used.contains($0.key) }, findFirst: false,
                        into: &joined)
                    return !found.refs.isEmpty || !joined.refs.isEmpty
                }
                let present: Bool
                do {
                    if try matches(predicate) { return [] }
                    present = try matches(nil)
                } catch let error as ButlerError where error.cause is UnrelatedDimension {
                    unrelated.append(name)
                    continue
                }
                if !present {
                    reasons.append("\(name) has no datasets in \(path.map(\.name).joined(separator: ", "))")
                    continue
                }
                reasons += try registry.explainEmpty(session, predicate: predicate) { try matches($0) }.map { "\(name): \($0)" }
            }
            if !unrelated.isEmpty {
                reasons.append("the constraints name dimensions or fields that \(unrelated.joined(separator: ", ")) lack")
            }
            return reasons
        }
    }

    /// Why ``queryDataIds(_:datasets:collections:where:dataId:bind:)`` with these arguments finds
    /// nothing, as ``explainNoDatasets(_:collections:where:dataId:bind:)`` says it.
    public func explainNoDataIds(
        _ dimensions: [String], datasets: String? = nil, collections: [String]? = nil, where expression: String? = nil,
        dataId: DataId = [:], bind: [String: BindValue] = [:]
    ) async throws -> [String] {
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
        let group = try universe.group(dimensions)
        let names = try datasets == nil ? [] : searchCollections(collections, for: "explainNoDataIds")
        let registry = self.registry
        return try await registry.database.read { session in
            func matches(_ term: QueryExpression?) throws -> Bool {
                let used = term?.possibleBindNames ?? []
                return
                    !(try registry.queryDataIds(
                        session, group, datasetType: datasets, in: names, where: term, bind: bind.filter { used.contains($0.key) }
                    ).isEmpty)
            }
            if try matches(predicate) { return [] }
            if !(try matches(nil)) {
                return [
                    datasets.map { "\($0) has no datasets in \(names.joined(separator: ", "))" }
                        ?? "there are no \(group.required.joined(separator: " × ")) records to combine"
                ]
            }
            return try registry.explainEmpty(session, predicate: predicate) { try matches($0) }
        }
    }
}

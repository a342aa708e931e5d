import Sky

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
    ///
    /// Spatial dimensions are related by overlap, as daf_butler relates them: when the query's
    /// dimensions — with those the where-expression names — span two families with regions
    /// (`visit, detector` and `tract, patch`), their records are joined where their regions
    /// overlap (coarsely in SQL through the common-skypix overlap tables, then exactly); a
    /// record region `OVERLAPS` a sky constraint likewise. A skypix dimension queried alone
    /// lists the pixels of the envelope of the regions it must overlap.
    func queryDataIds(
        _ session: any SQLSession, _ group: DimensionGroup, datasetType: String?, in names: [String], where predicate: QueryExpression?,
        bind: [String: BindValue]
    ) throws -> [DataCoordinate] {
        let context = "data ID query for \(group)"
        if datasetType == nil, group.required.count == 1, let skypix = universe.elements[group.required[0]], skypix.isSkypix {
            return try skypixDataIds(skypix, group, where: predicate, bind: bind, context: context)
        }
        var builder = QueryBuilder(universe: universe, dialect: dialect)
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        var typeDimensions: DimensionGroup?
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
            typeDimensions = record.datasetType.dimensions
        }
        let plan = try spatialPlan(base: typeDimensions ?? group, where: predicate, bind: bind)
        let joined = Set(typeDimensions?.names ?? [])
        for name in plan.dimensions.required where !joined.contains(name) {
            guard let element = universe.elements[name] else { throw ButlerError.unknownDimension(name, known: universe.order) }
            if element.isSkypix {
                // A skypix value comes from the overlap join; with nothing to join, it has no source.
                if plan.families.contains(where: { if case .element = $0 { true } else { false } }) { continue }
                throw ButlerError.query(
                    "sky pixelization '\(name)' has no records; query it through a dataset type or with '\(name) OVERLAPS …'")
            }
            builder.joinElement(element, keySources: [:])
        }
        if plan.families.count >= 2 { try builder.joinSpatially(plan.families, context: context) }
        var selected: [String] = []
        for name in group.required { selected.append(try builder.source(forDimension: name, context: context)) }
        if let predicate {
            let compiled = try builder.compile(predicate, bind: bind, context: context)
            conditions.append(compiled.sql)
            arguments += compiled.arguments
        }
        if cached({ !$0.hasOverlapTables }) && !builder.regionFilters.isEmpty {
            throw ButlerError.configuration("this repository's schema predates region overlap tables; open it writeable once to upgrade it")
        }
        var evaluator = RegionFilterEvaluator(builder.regionFilters)
        let sql =
            "SELECT DISTINCT " + (selected + evaluator.columns).joined(separator: ", ") + " FROM " + builder.fromClause
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY " + selected.joined(separator: ", ")
        var result: [DataCoordinate] = []
        var previous: [SQLValue]?
        try session.forEachRow(sql, arguments) { row in
            if !evaluator.isEmpty {
                guard try evaluator.passes(offset: selected.count, { row[$0] }) else { return }
                // Rows of one data ID are adjacent (ordered by it); its other matches repeat it.
                let key = (0..<selected.count).map { row[$0] }
                if key == previous { return }
                previous = key
            }
            var values: [String: DataIdValue] = [:]
            for (index, name) in group.required.enumerated() { values[name] = Self.dataIdValue(row[index]) }
            result.append(DataCoordinate(dimensions: group, values: values))
        }
        return result
    }

    /// The dimensions a query runs over and the spatial families it joins: `base` alone, or with
    /// the dimensions the where-expression names when that makes a spatial relation (two
    /// families, or a record region OVERLAPS a constraint).
    func spatialPlan(
        base: DimensionGroup, where predicate: QueryExpression?, bind: [String: BindValue]
    ) throws -> (
        dimensions: DimensionGroup, families: [SpatialOperand]
    ) {
        let referenced = predicate?.referencedDimensions(universe, bind: bind) ?? []
        let baseFamilies = universe.spatialFamilies(of: Set(base.names))
        guard !referenced.isSubset(of: Set(base.names)) else { return (base, baseFamilies) }
        // A named dimension that another one implies (band, through visit's physical_filter)
        // is reached through that one's record, not joined as a free dimension of its own.
        let candidates = Set(base.required).union(referenced)
        var implied = Set<String>()
        var frontier = Array(candidates)
        while let name = frontier.popLast() {
            for dependency in universe.elements[name]?.implies ?? [] where implied.insert(dependency).inserted {
                frontier.append(dependency)
            }
        }
        let full = try universe.group(candidates.filter { base.required.contains($0) || !implied.contains($0) })
        let families = universe.spatialFamilies(of: Set(full.names))
        if families.count >= 2 || predicate?.hasRegionOverlap(universe) == true { return (full, families) }
        return (base, baseFamilies)
    }

    /// The pixels of a skypix dimension queried alone: those of the intersection of the
    /// envelopes of the regions its top-level `OVERLAPS` terms name.
    private func skypixDataIds(
        _ skypix: DimensionElement, _ group: DimensionGroup, where predicate: QueryExpression?, bind: [String: BindValue], context: String
    ) throws -> [DataCoordinate] {
        var builder = QueryBuilder(universe: universe, dialect: dialect)
        func terms(_ expression: QueryExpression) -> [QueryExpression] {
            if case .and(let a, let b) = expression { return terms(a) + terms(b) }
            return [expression]
        }
        var pixels: RangeSet?
        for term in predicate.map(terms) ?? [] {
            var constraint: SkyConstraint?
            if case .comparison("OVERLAPS", let lhs, let rhs) = term {
                for (side, other) in [(lhs, rhs), (rhs, lhs)] {
                    if case .identifier(let name) = other, (universe.aliases[name] ?? name) == skypix.name {
                        constraint = try builder.skyConstraint(side, bind: bind, context: context)
                    }
                }
            }
            guard let constraint else {
                throw ButlerError.query(
                    "\(context): a query of \(skypix.name) alone takes only '\(skypix.name) OVERLAPS <region>' terms joined by AND, not '\(term)'"
                )
            }
            let envelope = try universe.envelope(of: constraint, skypix: skypix, context: context)
            pixels = pixels?.intersection(envelope) ?? envelope
        }
        guard let pixels else {
            throw ButlerError.query(
                "\(context): \(skypix.name) has no records; give '\(skypix.name) OVERLAPS <region>' to list the pixels of a region")
        }
        let limit: UInt64 = 1_000_000
        guard pixels.cardinality <= limit else {
            throw ButlerError.query(
                "\(context): the region covers \(pixels.cardinality) pixels of \(skypix.name), more than \(limit); use a coarser level")
        }
        return pixels.ranges.flatMap { range in
            (range.0..<range.1).map { DataCoordinate(dimensions: group, values: [skypix.name: .int(Int64($0))]) }
        }
    }
}

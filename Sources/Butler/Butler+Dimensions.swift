public import Composites

extension Butler {
    /// Inserts records of a dimension element (e.g. `visit`), each a mapping of field names
    /// to values as in daf_butler's record dictionaries. Returns how many rows were written.
    @discardableResult
    public func insertDimensionRecords(
        _ element: String, _ records: [[String: JSONValue]], mode: RecordInsertMode = .insert
    ) async throws -> Int {
        try requireWriteable("insert \(element) records")
        let registry = self.registry
        return try await registry.database.writeRetrying { session in
            try registry.insertDimensionRecords(session, element: element, records: records, mode: mode)
        }
    }

    /// Records of `element` matching an optional where-expression and data ID.
    public func dimensionRecords(
        _ element: String, where expression: String? = nil, dataId: DataId = [:], bind: [String: BindValue] = [:]
    ) async throws -> [DimensionRecord] {
        let predicate = try QueryExpression.predicate(expression, dataId: dataId, bind: bind)
        let registry = self.registry
        return try await registry.database.read { session in
            try registry.queryDimensionRecords(session, element: element, where: predicate, bind: bind)
        }
    }

    /// Standardises `dataId` for `dimensions` and fills implied values from records.
    public func expandDataId(_ dataId: DataId, dimensions: [String]) async throws -> DataCoordinate {
        let group = try universe.group(dimensions)
        let coordinate = try universe.standardize(dataId, for: group)
        let registry = self.registry
        return try await registry.database.read { session in try registry.expand(session, coordinate, context: "data ID") }
    }
}

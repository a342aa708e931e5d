import Composites

/// Dataset types: defined at run time, immutable once defined.
extension Butler {
    /// Registers a dataset type; an identical existing definition is accepted, and one that
    /// differs only by declaring more `fields` adds them (``indexFields(_:collections:where:bind:reindex:)``
    /// fills them for datasets that exist).
    /// - Returns: The definition as stored (dimensions expanded to their required closure).
    /// - Throws: ``ButlerError/Code/datasetTypeConflict`` showing both definitions.
    @discardableResult
    public func registerDatasetType(
        _ name: String, dimensions: [String], storageClass: String, isCalibration: Bool = false, fields: [DatasetField] = []
    ) async throws -> DatasetType {
        try requireWriteable("register dataset type \(name)")
        _ = try storageClasses.storageClass(named: storageClass)
        let datasetType = DatasetType(
            name: name, dimensions: try universe.group(dimensions), storageClass: storageClass, isCalibration: isCalibration,
            fields: fields)
        let registry = self.registry
        let storageClasses = self.storageClasses
        try await registry.database.writeRetrying { session in
            if let component = datasetType.component {
                // A standalone component type must fit its parent: a component of the parent's
                // storage class, of that component's storage class, keyed on parent dimensions.
                guard let parent = try registry.findDatasetType(session, named: datasetType.parentName) else {
                    throw ButlerError.configuration("register \(datasetType.parentName) before its component type \(name)")
                }
                let parentClass = try storageClasses.storageClass(named: parent.datasetType.storageClassName)
                guard let expected = parentClass.components[component] else {
                    throw ButlerError.configuration(
                        "\(name): storage class \(parentClass.name) has no stored component '\(component)' (components: \(parentClass.components.keys.sorted().joined(separator: ", ")))"
                    )
                }
                guard expected == storageClass else {
                    throw ButlerError.configuration(
                        "\(name) must have storage class \(expected), the \(component) component of \(parentClass.name)")
                }
                let parentNames = Set(parent.datasetType.dimensions.names)
                if let extra = datasetType.dimensions.required.first(where: { !parentNames.contains($0) }) {
                    throw ButlerError.configuration("\(name) has dimension '\(extra)', which \(parent.datasetType) does not")
                }
            }
            _ = try registry.registerDatasetType(session, datasetType)
        }
        return try await self.datasetType(name)
    }

    /// The dataset type called `name`.
    public func datasetType(_ name: String) async throws -> DatasetType {
        let registry = self.registry
        return try await registry.database.read { session in try registry.datasetTypeRecord(session, named: name).datasetType }
    }

    /// Dataset types whose names match any of the glob `patterns` (all when empty).
    public func datasetTypes(matching patterns: [String] = []) async throws -> [DatasetType] {
        let registry = self.registry
        return try await registry.database.read { session in try registry.datasetTypes(session, matching: patterns) }
    }

    /// Removes a dataset type that has no datasets.
    public func removeDatasetType(_ name: String) async throws {
        try requireWriteable("remove dataset type \(name)")
        let registry = self.registry
        try await registry.database.writeRetrying { session in try registry.removeDatasetType(session, name) }
    }
}

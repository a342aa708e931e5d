public import Formatters

/// A dataset found but not yet read (daf_butler's `DeferredDatasetHandle`): the registry
/// look-up, with the resolution of its components, is done once; each `get` reads the artifact
/// with the handle's parameters merged with the call's (the call's win).
public struct DeferredDatasetHandle: Sendable {
    /// The dataset.
    public let ref: DatasetRef
    /// Parameters given when the handle was made.
    public let parameters: ReadParameters
    let butler: Butler
    let located: Located

    /// Reads the dataset, or one component, as its in-memory type.
    public func get(component: String? = nil, parameters extra: ReadParameters = [:]) async throws -> any Sendable {
        try butler.read(located, component: component, parameters: parameters.merging(extra) { _, new in new })
    }

    /// Reads the dataset, or one component, as `T` (any type `get(…, as:)` accepts).
    public func get<T: Sendable>(component: String? = nil, parameters extra: ReadParameters = [:], as type: T.Type) async throws -> T {
        try butler.typedRead(located, component: component, parameters: parameters.merging(extra) { _, new in new }, as: type)
    }
}

extension Butler {
    /// Finds a dataset now and returns a handle that reads it later (with `parameters`
    /// merged into every read): the way to read several cutouts or components of one dataset
    /// with one registry look-up.
    public func getDeferred(
        _ datasetType: String, dataId: DataId, collections: [String]? = nil, timespan: Timespan? = nil, parameters: ReadParameters = [:]
    ) async throws -> DeferredDatasetHandle {
        let path = try searchCollections(collections, for: "getDeferred(\(datasetType))")
        let located = try await locateRequired(datasetType, dataId: dataId, collections: path, timespan: timespan)
        return DeferredDatasetHandle(ref: located.ref, parameters: parameters, butler: self, located: located)
    }
}

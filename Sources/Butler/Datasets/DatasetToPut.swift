/// One dataset of a batched put (``Butler/put(contentsOf:run:idGenerationMode:)``): the value,
/// its dataset type and its data ID.
public struct DatasetToPut: Sendable {
    /// The in-memory dataset (any value the dataset type's formatter can write).
    public let value: any Sendable
    /// A registered dataset type name.
    public let datasetType: String
    /// Values for the type's required dimensions (implied ones are looked up).
    public let dataId: DataId

    /// Describes one dataset to put.
    public init(_ value: any Sendable, _ datasetType: String, dataId: DataId) {
        self.value = value
        self.datasetType = datasetType
        self.dataId = dataId
    }
}

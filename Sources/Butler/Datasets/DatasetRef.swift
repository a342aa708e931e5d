public import Foundation

/// A resolved dataset: its UUID, type, data ID and the RUN collection it was born in.
public struct DatasetRef: Sendable, Hashable, CustomStringConvertible {
    /// The dataset's unique ID.
    public let id: UUID
    /// The dataset's type.
    public let datasetType: DatasetType
    /// The dataset's data ID.
    public let dataId: DataCoordinate
    /// The RUN collection holding the dataset.
    public let run: String

    /// Creates a reference (normally returned by the Butler, not built by hand).
    public init(id: UUID, datasetType: DatasetType, dataId: DataCoordinate, run: String) {
        self.id = id
        self.datasetType = datasetType
        self.dataId = dataId
        self.run = run
    }

    /// `calexp@{instrument: HSC, visit: 903334, detector: 16} [sc=Exposure] (run=… id=…)`.
    public var description: String {
        "\(datasetType.name)@\(dataId) [sc=\(datasetType.storageClassName)] (run=\(run) id=\(id.uuidString.lowercased()))"
    }
}

/// How a new dataset's ID is chosen (daf_butler's `DatasetIdGenEnum`).
public enum DatasetIdGenerationMode: String, Sendable, CaseIterable {
    /// A new random-and-time-ordered UUIDv7.
    case unique
    /// uuid5 of the dataset type and data ID: the same input gives the same ID in any run.
    case dataIdType = "dataid_type"
    /// uuid5 of the dataset type, data ID and run (daf_butler's default for raw ingest).
    case dataIdTypeRun = "dataid_type_run"
}

/// Makes dataset IDs exactly as daf_butler does for its deterministic modes.
public enum DatasetIdFactory {
    /// daf_butler's namespace for dataset uuid5 values.
    public static let namespace = UUID(uuidString: "840b31d9-05cd-5161-b2c8-00d32b280d0f")!

    /// The ID for a dataset of `datasetType` with `dataId` in `run`, under `mode`.
    public static func makeId(
        datasetType: String, dataId: DataCoordinate, run: String, mode: DatasetIdGenerationMode
    ) -> UUID {
        switch mode {
        case .unique:
            return uuid7()
        case .dataIdType, .dataIdTypeRun:
            // daf_butler: "dataset_type=<name>[,run=<run>]" then "<dim>=<value>" for the
            // required dimensions sorted by name, joined with commas.
            var items = [("dataset_type", datasetType)]
            if mode == .dataIdTypeRun { items.append(("run", run)) }
            for (name, value) in dataId.required.sorted(by: { $0.name < $1.name }) {
                items.append((name, value.description))
            }
            return uuid5(namespace: namespace, name: items.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
        }
    }

    /// RFC 9562 version 5 (SHA-1, name-based) UUID.
    public static func uuid5(namespace: UUID, name: String) -> UUID {
        var input = withUnsafeBytes(of: namespace.uuid) { Array($0) }
        input.append(contentsOf: Array(name.utf8))
        var bytes = Array(SHA1Digest.hash(input).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuid(bytes)
    }

    /// RFC 9562 version 7 UUID: 48-bit Unix milliseconds, then random bits.
    public static func uuid7(now: Date = Date()) -> UUID {
        var bytes = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuid(bytes)
    }

    /// The UUID with these 16 bytes.
    private static func uuid(_ bytes: [UInt8]) -> UUID {
        bytes.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }
}

/// What a put or an ingest does when its run already holds a dataset of the type and data ID
/// (or the dataset ID is taken): restart semantics for re-run pipelines and ingests.
public enum ExistingDatasetPolicy: String, Sendable, CaseIterable {
    /// Refuse: a conflict error naming the existing dataset (the default).
    case fail
    /// Keep the existing dataset when its artifacts hold the same bytes (compared by recorded
    /// checksum) and return it; refuse, naming both checksums, when they differ
    /// (`--skip-existing`, ``Butler/putOrCompare(_:_:dataId:run:)``).
    case skipIdentical = "skip-identical"
    /// Replace it (`--replace`, pipetask's `--clobber-outputs`): once the new artifact is
    /// written (staged), the dataset of the type and data ID in the run is removed — registry
    /// rows, memberships, artifacts — and the new one registered. Two transactions: a reader
    /// between them finds neither, and a failure of the second leaves the old dataset removed
    /// (run the put or ingest again). The new dataset gets its own ID (the same one when IDs
    /// are derived from the data ID and run).
    case replace
}

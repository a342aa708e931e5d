import Composites
import Foundation

/// daf_butler's index of a Zip of datasets (`_butler_zip_index.json`, `ZipIndex` version V1):
/// the datasets (`refs`, daf_butler's `SerializedDatasetRefContainerV1`: dataset types by name
/// and each dataset's type, run and data ID) and, for each member of the Zip, the datastore
/// record of the artifact it holds and the IDs of the datasets in it. Written by
/// `retrieve-artifacts --zip` (``Butler/retrieveArtifactsZip(_:destination:overwrite:)``) and
/// read by `ingest-zip`, here and in daf_butler.
struct ZipIndex: Codable {
    /// The index's name inside the Zip.
    static let memberName = "_butler_zip_index.json"

    /// One dataset, as daf_butler's `MinimalistSerializableDatasetRef`.
    struct CompactRef: Codable {
        var datasetTypeName: String
        var run: String
        var dataId: DataId

        enum CodingKeys: String, CodingKey {
            case datasetTypeName = "dataset_type_name"
            case run
            case dataId = "data_id"
        }
    }

    /// The datasets of the Zip.
    struct RefContainer: Codable {
        var containerVersion = "V1"
        var universeVersion: Int
        var universeNamespace: String
        var datasetTypes: [String: DatasetType]
        /// By lower-case dataset ID.
        var compactRefs: [String: CompactRef]

        enum CodingKeys: String, CodingKey {
            case containerVersion = "container_version"
            case universeVersion = "universe_version"
            case universeNamespace = "universe_namespace"
            case datasetTypes = "dataset_types"
            case compactRefs = "compact_refs"
        }
    }

    /// An artifact's datastore record, as daf_butler's `SerializedStoredFileInfo`.
    struct StoredInfo: Codable {
        var formatter: String
        var path: String
        var storageClass: String
        var component: String?
        var checksum: String?
        var fileSize: Int64

        enum CodingKeys: String, CodingKey {
            case formatter
            case path
            case storageClass = "storage_class"
            case component
            case checksum
            case fileSize = "file_size"
        }
    }

    /// One member of the Zip: its record and the datasets it holds (lower-case IDs).
    struct Artifact: Codable {
        var info: StoredInfo
        var ids: [String]
    }

    var indexVersion = "V1"
    var refs: RefContainer
    /// By member name.
    var artifactMap: [String: Artifact]

    enum CodingKeys: String, CodingKey {
        case indexVersion = "index_version"
        case refs
        case artifactMap = "artifact_map"
    }

    /// daf_butler's name for a Zip of these members: a uuid5 of their sorted names, so that
    /// the same files make the same name.
    var zipFileName: String {
        DatasetIdFactory.uuid5(namespace: DatasetIdFactory.namespace, name: artifactMap.keys.sorted().joined(separator: ","))
            .uuidString.lowercased() + ".zip"
    }
}

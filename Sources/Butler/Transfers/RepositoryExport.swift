public import Composites
import Formatters
public import Foundation

/// What an export holds, as daf_butler's export file lists it (`export.yaml`, format 1.0.2):
/// dimension records, collections, dataset types with their datasets and artifact paths, and
/// the TAGGED and CALIBRATION memberships. Written by ``Butler/export(to:collections:where:datasetTypes:transfer:)``
/// and read by ``Butler/import(from:exportFile:transfer:)``; ``ExportFile`` turns it into YAML
/// and back.
public struct RepositoryExport: Sendable, Equatable {
    /// One collection.
    public struct Collection: Sendable, Equatable {
        /// Its name.
        public var name: String
        /// Its type.
        public var type: CollectionType
        /// Its documentation, if any.
        public var doc: String?
        /// A CHAINED collection's children, in search order.
        public var children: [String]

        /// Describes a collection.
        public init(name: String, type: CollectionType, doc: String? = nil, children: [String] = []) {
            self.name = name
            self.type = type
            self.doc = doc
            self.children = children
        }
    }

    /// A dataset type as the file writes it.
    public struct DatasetTypeEntry: Sendable, Equatable {
        /// The type's name.
        public var name: String
        /// Its dimensions (daf_butler writes required and implied; either is read).
        public var dimensions: [String]
        /// Its storage class's name.
        public var storageClass: String
        /// Whether it is a calibration type.
        public var isCalibration: Bool

        /// Describes a dataset type.
        public init(name: String, dimensions: [String], storageClass: String, isCalibration: Bool) {
            self.name = name
            self.dimensions = dimensions
            self.storageClass = storageClass
            self.isCalibration = isCalibration
        }
    }

    /// One artifact and the datasets it holds (one, for every artifact this Butler writes).
    public struct DatasetFile: Sendable, Equatable {
        /// The datasets' IDs.
        public var ids: [UUID]
        /// Their data IDs (required dimensions).
        public var dataIds: [DataId]
        /// The artifact's path, relative to the export directory (or absolute).
        public var path: String
        /// The formatter that reads it, as daf_butler names it (a Python class path) or as
        /// this Butler does.
        public var formatter: String?
        /// The artifact's size in bytes when exported (the SQLite form records it; daf_butler's
        /// YAML does not).
        public var size: Int64?
        /// Its checksum when exported (`crc32c:<hex>`), if the SQLite form recorded one.
        public var checksum: String?

        /// Describes one artifact.
        public init(ids: [UUID], dataIds: [DataId], path: String, formatter: String?, size: Int64? = nil, checksum: String? = nil) {
            self.ids = ids
            self.dataIds = dataIds
            self.path = path
            self.formatter = formatter
            self.size = size
            self.checksum = checksum
        }
    }

    /// Datasets of one type in one RUN.
    public struct DatasetGroup: Sendable, Equatable {
        /// Their type.
        public var datasetType: DatasetTypeEntry
        /// Their RUN collection.
        public var run: String
        /// Their artifacts.
        public var files: [DatasetFile]

        /// Describes a group of datasets.
        public init(datasetType: DatasetTypeEntry, run: String, files: [DatasetFile]) {
            self.datasetType = datasetType
            self.run = run
            self.files = files
        }
    }

    /// The records of one dimension element, each by daf_butler's field names (a timespan as
    /// `timespan_begin`/`timespan_end` TAI nanoseconds, a region as sphgeom base64, as this
    /// Butler's records hold them).
    public struct DimensionData: Sendable, Equatable {
        /// The element.
        public var element: String
        /// Its records.
        public var records: [[String: JSONValue]]

        /// Describes records of an element.
        public init(element: String, records: [[String: JSONValue]]) {
            self.element = element
            self.records = records
        }
    }

    /// Datasets associated with a TAGGED collection, or certified in a CALIBRATION collection
    /// for a validity range.
    public struct Association: Sendable, Equatable {
        /// The collection.
        public var collection: String
        /// The validity range (CALIBRATION), or nil (TAGGED).
        public var timespan: Timespan?
        /// The datasets.
        public var ids: [UUID]

        /// Describes an association.
        public init(collection: String, timespan: Timespan?, ids: [UUID]) {
            self.collection = collection
            self.timespan = timespan
            self.ids = ids
        }
    }

    /// The dimension universe the file was written for (`daf_butler` 8 here).
    public var universeNamespace: String
    /// Its version.
    public var universeVersion: Int
    /// Dimension records, element by element, in an order that inserts cleanly.
    public var dimensions: [DimensionData]
    /// Collections.
    public var collections: [Collection]
    /// Datasets by type and run.
    public var datasets: [DatasetGroup]
    /// TAGGED and CALIBRATION memberships.
    public var associations: [Association]

    /// An export.
    public init(
        universeNamespace: String = "daf_butler", universeVersion: Int = 8, dimensions: [DimensionData] = [],
        collections: [Collection] = [], datasets: [DatasetGroup] = [], associations: [Association] = []
    ) {
        self.universeNamespace = universeNamespace
        self.universeVersion = universeVersion
        self.dimensions = dimensions
        self.collections = collections
        self.datasets = datasets
        self.associations = associations
    }

    /// Replaces every file's path by `path(id of its first dataset)`.
    mutating func setPaths(_ path: (UUID) throws -> String) rethrows {
        for group in datasets.indices {
            for file in datasets[group].files.indices {
                datasets[group].files[file].path = try path(datasets[group].files[file].ids[0])
            }
        }
    }

    /// How many datasets it holds.
    public var datasetCount: Int { datasets.reduce(0) { $0 + $1.files.reduce(0) { $0 + $1.ids.count } } }
}

/// This Butler's formatter names and daf_butler's Python classes for the same formats, both
/// ways: an export names daf_butler's class so that daf_butler can read the artifact, an
/// import maps it back.
enum FormatterNames {
    static let pairs: [(ours: String, theirs: String)] = [
        ("JSONFormatter", "lsst.daf.butler.formatters.json.JsonFormatter"),
        ("YAMLFormatter", "lsst.daf.butler.formatters.yaml.YamlFormatter"),
        ("FitsExposureFormatter", "lsst.obs.base.formatters.fitsExposure.FitsExposureFormatter"),
        ("FitsImageFormatter", "lsst.obs.base.formatters.fitsExposure.FitsImageFormatter"),
        ("FitsCatalogFormatter", "lsst.obs.base.formatters.fitsGeneric.FitsGenericFormatter"),
    ]

    /// daf_butler's name for one of ours (ours when it has none).
    static func theirs(_ ours: String) -> String { pairs.first { $0.ours == ours }?.theirs ?? ours }

    /// Our name for daf_butler's (or ours) — nil for a class this Butler has no formatter for.
    static func ours(_ name: String, registry: FormatterRegistry) -> String? {
        if (try? registry.formatter(named: name)) != nil { return name }
        if let pair = pairs.first(where: { $0.theirs == name }) { return pair.ours }
        // Other daf_butler classes of the same formats (`lsst.daf.butler.formatters.json.JsonFormatter`
        // has relatives that write the same bytes).
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return ["JsonFormatter": "JSONFormatter", "YamlFormatter": "YAMLFormatter"][last]
    }
}

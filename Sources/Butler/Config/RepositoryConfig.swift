public import Composites
import Formatters
public import Foundation

/// A repository's configuration, stored as `butler.yaml` at its root.
///
/// Paths are relative to the root so that moving the directory keeps the repository working.
public struct RepositoryConfig: Sendable, Codable, Equatable {
    /// Where the registry lives.
    public struct Registry: Sendable, Codable, Equatable {
        /// `sqlite:///<path>` (relative to the root unless absolute) or `postgresql://…`.
        public var db: String
        /// The PostgreSQL schema holding this repository's tables (ignored for SQLite).
        public var namespace: String?
        /// Creates registry settings.
        public init(db: String, namespace: String? = nil) {
            self.db = db
            self.namespace = namespace
        }
    }

    /// How a dataset type or storage class is written.
    public struct FormatterChoice: Sendable, Codable, Equatable {
        /// The formatter's name (`JSONFormatter`, `YAMLFormatter`, `BytesFormatter`…).
        public var formatter: String
        /// The file extension for new artifacts (with its dot); the formatter's default if nil.
        public var `extension`: String?
        /// Write parameters for the formatter (FITS `compression`/`tile`, HDF5 `chunk`/`deflate`).
        public var parameters: [String: JSONValue]?

        /// Creates a choice.
        public init(formatter: String, extension: String? = nil, parameters: [String: JSONValue]? = nil) {
            self.formatter = formatter
            self.extension = `extension`
            self.parameters = parameters
        }

        public init(from decoder: any Decoder) throws {
            // A bare string names the formatter: `StructuredDataDict: JSONFormatter`.
            if let name = try? decoder.singleValueContainer().decode(String.self) {
                self.init(formatter: name)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                formatter: try container.decode(String.self, forKey: .formatter),
                extension: try container.decodeIfPresent(String.self, forKey: .extension),
                parameters: try container.decodeIfPresent([String: JSONValue].self, forKey: .parameters))
        }
    }

    /// Where artifacts live and how they are named and written.
    public struct Datastore: Sendable, Codable, Equatable {
        /// The name the datastore's records carry; ``defaultName`` when nil. Records of several
        /// datastores (a chain) share one table, told apart by this name.
        public var name: String?
        /// The artifact root, relative to the repository root unless absolute.
        public var root: String
        /// Checksum recorded for each artifact.
        public var checksum: ChecksumAlgorithm
        /// Whether every read checks the artifact against its recorded checksum first (a
        /// mismatch is ``ButlerError/Code/corruptArtifact``); off unless set (a read then costs
        /// a pass over the whole file, also for a cutout). `Butler(…, verifyChecksums: true)`
        /// and `butler get --verify` turn it on for one Butler.
        public var verifyChecksums: Bool?
        /// Whether each put of an image or exposure records the artifact's byte layout (where
        /// its headers, tiles and chunks lie: decision 53), so that its cutouts on S3 or HTTP
        /// fetch only those bytes at once; on unless set false (it costs a walk of the headers
        /// per put). Without a layout a ranged read of FITS learns it from the file's headers,
        /// a few requests more; HDF5 is then read whole.
        public var recordLayouts: Bool?
        /// Whether artifacts (and their directories) are fsynced before their rows commit.
        public var fsync: Bool
        /// File templates by dataset type name, storage class name, or `default`.
        public var templates: [String: String]
        /// Formatter choices by dataset type name or storage class name.
        public var formatters: [String: FormatterChoice]
        /// Dataset types or storage classes stored disassembled: one artifact per component,
        /// each with the formatter of its component storage class (daf_butler's
        /// `composites: disassembled`).
        public var disassembled: [String]?
        /// How an `s3://BUCKET/PREFIX` root is reached (endpoint, region, profile, retries);
        /// the environment fills what is not given (``S3Options``).
        public var s3: S3Options?
        /// The local cache of a remote root's artifacts (``CacheOptions``).
        public var cache: CacheOptions?
        /// Several datastores in one repository (daf_butler's `ChainedDatastore`): a put goes
        /// to every member whose ``ChainMember/constraints`` accept it, a get reads from the
        /// first member that has the dataset, a removal removes from all. When set, ``root``
        /// and the settings above are the defaults members inherit.
        public var chain: [ChainMember]?

        /// The name of a repository's file datastore when the configuration gives none (as
        /// daf_butler names it; `<butlerRoot>` stays unexpanded so the repository can move).
        public static let defaultName = "FileDatastore@<butlerRoot>"

        /// Creates datastore settings.
        public init(
            root: String, checksum: ChecksumAlgorithm, fsync: Bool, templates: [String: String], formatters: [String: FormatterChoice]
        ) {
            self.root = root
            self.checksum = checksum
            self.fsync = fsync
            self.templates = templates
            self.formatters = formatters
        }
    }

    /// One datastore of a chain: its own root (no member's root may be inside another's) and
    /// name, what it accepts, and the settings it changes from the chain's (formatters are
    /// merged over the chain's, so one member can write FITS and another HDF5).
    public struct ChainMember: Sendable, Codable, Equatable {
        /// The name its records carry (`FileDatastore@<root>` when nil); unique in the chain.
        public var name: String?
        /// Its artifact root: a directory (relative to the repository root unless absolute),
        /// `s3://BUCKET/PREFIX` or a read-only `https://` URL.
        public var root: String
        /// Which datasets it stores.
        public var constraints: Constraints?
        /// Templates replacing the chain's (by the same keys).
        public var templates: [String: String]?
        /// Formatter choices over the chain's.
        public var formatters: [String: FormatterChoice]?
        /// Dataset types or storage classes it stores disassembled (the chain's when nil).
        public var disassembled: [String]?
        /// Its S3 settings (the chain's when nil).
        public var s3: S3Options?
        /// Its cache settings (the chain's when nil).
        public var cache: CacheOptions?

        /// A member at `root`.
        public init(name: String? = nil, root: String, constraints: Constraints? = nil, formatters: [String: FormatterChoice]? = nil) {
            self.name = name
            self.root = root
            self.constraints = constraints
            self.formatters = formatters
        }
    }

    /// Which datasets a chain member stores (daf_butler's `constraints`): names of dataset types
    /// (a component's parent counts) or storage classes, or `all`. A dataset is stored when no
    /// `reject` entry names it and, if `accept` is given, an `accept` entry does.
    public struct Constraints: Sendable, Codable, Equatable {
        /// What it stores (everything when nil).
        public var accept: [String]?
        /// What it never stores.
        public var reject: [String]?

        /// Describes constraints.
        public init(accept: [String]? = nil, reject: [String]? = nil) {
            self.accept = accept
            self.reject = reject
        }

        /// Whether a dataset of `datasetType` (stored as `storageClass`, itself perhaps based
        /// on another) is accepted.
        public func accepts(datasetType: String, storageClasses: [String]) -> Bool {
            let names = Set([datasetType, datasetType.split(separator: ".").first.map(String.init) ?? datasetType] + storageClasses)
            if let reject, reject.contains(where: { $0 == "all" || names.contains($0) }) { return false }
            guard let accept else { return true }
            return accept.contains { $0 == "all" || names.contains($0) }
        }
    }

    /// How an S3 datastore root is reached. Each setting left out comes from the environment
    /// as AWS tools and lsst-resources read it: `S3_ENDPOINT_URL`, `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, `AWS_PROFILE`; credentials only ever from `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` or the shared credentials file, never from `butler.yaml`.
    public struct S3Options: Sendable, Codable, Equatable {
        /// The endpoint URL of an S3-protocol server other than AWS (`http://127.0.0.1:9000`),
        /// addressed path-style.
        public var endpoint: String?
        /// The signing region (`us-east-1` when neither this nor the environment gives one).
        public var region: String?
        /// The profile of the shared credentials file to sign with.
        public var profile: String?
        /// The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
        /// `~/.aws/credentials`): a path, never the secrets themselves.
        public var credentialsFile: String?
        /// How many seconds all attempts of one request may take (60 by default).
        public var retryBudget: Double?
        /// The most attempts for one request (10 by default).
        public var maxAttempts: Int?
        /// Objects at least this many bytes are uploaded in parallel parts of this size
        /// (8 MiB by default; S3's minimum part is 5 MiB).
        public var multipartThreshold: Int?

        /// Creates S3 settings.
        public init(endpoint: String? = nil, region: String? = nil, profile: String? = nil) {
            self.endpoint = endpoint
            self.region = region
            self.profile = profile
        }
    }

    /// The local cache of artifacts read from a remote datastore root, shared by every process
    /// that uses the same directory. The environment overrides the directory and the limits as
    /// daf_butler's does: `DAF_BUTLER_CACHE_DIRECTORY`, and `DAF_BUTLER_CACHE_EXPIRATION_MODE`
    /// (`files=N`, `datasets=N`, `size=BYTES`, `age=SECONDS`). Formatters read remote artifacts
    /// from it (cfitsio and HDF5 need a file), so it cannot be turned off; a small limit keeps
    /// little.
    public struct CacheOptions: Sendable, Codable, Equatable {
        /// The cache directory (`~/.cache/swift-butler` by default).
        public var directory: String?
        /// The most bytes kept (10 GiB by default).
        public var maxBytes: Int64?
        /// The most files kept (100,000 by default).
        public var maxFiles: Int?
        /// The most datasets kept (no limit by default).
        public var maxDatasets: Int?
        /// How many seconds an unused artifact is kept (no limit by default).
        public var maxAge: Double?
        /// Seconds after its last use during which an entry is never evicted, so that a reader
        /// in another process that just found it can open it (5 by default, at least 2: uses
        /// are recorded to the second).
        public var evictionGrace: Double?

        /// Creates cache settings.
        public init(directory: String? = nil, maxBytes: Int64? = nil, maxFiles: Int? = nil, maxAge: Double? = nil) {
            self.directory = directory
            self.maxBytes = maxBytes
            self.maxFiles = maxFiles
            self.maxAge = maxAge
        }
    }

    /// Dimension universe settings.
    public struct Dimensions: Sendable, Codable, Equatable {
        /// A universe file replacing the built-in one (relative to the root unless absolute).
        public var config: String?
        /// Data ID aliases (`ccdnum: detector`).
        public var aliases: [String: String]

        /// Creates dimension settings.
        public init(config: String? = nil, aliases: [String: String] = [:]) {
            self.config = config
            self.aliases = aliases
        }
    }

    /// Registry settings.
    public var registry: Registry
    /// Datastore settings.
    public var datastore: Datastore
    /// Dimension settings.
    public var dimensions: Dimensions
    /// Components supplied by another dataset type: `src.photoCalib: calexp.photoCalib` reads a
    /// source catalog's calibration from the calexp of the same data ID when the catalog was
    /// stored without one, or when the calexp is found earlier in the collections.
    public var componentBindings: [String: String]?
    /// Storage classes defined here, each like an existing one under a name of the
    /// repository's choosing: `{ExposureF_v2: {like: ExposureF, doc: "…"}}`.
    public var storageClasses: [String: StorageClassDefinition]?

    /// A storage class defined in configuration.
    public struct StorageClassDefinition: Sendable, Codable, Equatable {
        /// The storage class it copies (type, components, parameters, assembler, converters).
        public var like: String
        /// What it is.
        public var doc: String?

        /// A definition copying `like`.
        public init(like: String, doc: String? = nil) {
            self.like = like
            self.doc = doc
        }
    }

    /// daf_butler's default template, adapted: run, type and component directories, then a
    /// file name made of every identifying dimension that the data ID has.
    public static let defaultTemplate =
        "{run:/}/{datasetType}.{component:?}/{band:?}/{day_obs:?}/{datasetType}_{component:?}_{instrument:?}_{band:?}_{physical_filter:?}_{visit:?}_{exposure:?}_{detector:?}_{skymap:?}_{tract:?}_{patch:?}_{htm7:?}_{run}"

    /// The configuration a new repository gets: SQLite registry and files under the root.
    public static func defaultConfig(database: String? = nil, namespace: String? = nil) -> RepositoryConfig {
        RepositoryConfig(
            registry: Registry(db: database ?? "sqlite:///gen3.sqlite3", namespace: namespace),
            datastore: Datastore(
                root: ".", checksum: .crc32c, fsync: true,
                templates: ["default": defaultTemplate],
                formatters: [
                    "StructuredDataDict": FormatterChoice(formatter: "JSONFormatter"),
                    "StructuredDataList": FormatterChoice(formatter: "JSONFormatter"),
                    "StructuredData": FormatterChoice(formatter: "JSONFormatter"),
                    "Bytes": FormatterChoice(formatter: "BytesFormatter", extension: ".bin"),
                    "Exposure": FormatterChoice(formatter: "FitsExposureFormatter"),
                    "ExposureF": FormatterChoice(formatter: "FitsExposureFormatter"),
                    "ExposureD": FormatterChoice(formatter: "FitsExposureFormatter"),
                    "ExposureI": FormatterChoice(formatter: "FitsExposureFormatter"),
                    "ExposureU": FormatterChoice(formatter: "FitsExposureFormatter"),
                    // Components stored on their own (a refitted calexp.wcs, a shared visitInfo).
                    "Wcs": FormatterChoice(formatter: "JSONFormatter"),
                    "Psf": FormatterChoice(formatter: "JSONFormatter"),
                    "PhotoCalib": FormatterChoice(formatter: "JSONFormatter"),
                    "VisitInfo": FormatterChoice(formatter: "JSONFormatter"),
                    "PropertyList": FormatterChoice(formatter: "JSONFormatter"),
                    "SourceCatalog": FormatterChoice(formatter: "JSONFormatter"),
                    "ReferenceCatalog": FormatterChoice(formatter: "FitsCatalogFormatter"),
                    "SkyMap": FormatterChoice(formatter: "YAMLFormatter"),
                    "Columns": FormatterChoice(formatter: "JSONFormatter"),
                    // Planes of disassembled exposures.
                    "ImageF": FormatterChoice(formatter: "FitsImageFormatter"),
                    "ImageD": FormatterChoice(formatter: "FitsImageFormatter"),
                    "ImageI": FormatterChoice(formatter: "FitsImageFormatter"),
                    "ImageU": FormatterChoice(formatter: "FitsImageFormatter"),
                    "Mask": FormatterChoice(formatter: "FitsImageFormatter"),
                ]),
            dimensions: Dimensions(),
            componentBindings: ["src.photoCalib": "calexp.photoCalib"])
    }

    /// Reads `butler.yaml` (or another file name) from a directory.
    public static func load(root: URL, fileName: String = "butler.yaml") throws -> RepositoryConfig {
        let url = root.appendingPathComponent(fileName)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ButlerError.configuration("no repository at \(root.path): cannot read \(url.path)", cause: error)
        }
        do { return try YAMLSupport.decode(RepositoryConfig.self, from: text) } catch {
            throw ButlerError.configuration("invalid repository configuration \(url.path)", cause: error)
        }
    }

    /// Creates the directory of a new repository, refusing one that already holds a repository.
    static func prepareNewRoot(_ root: URL) throws {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("butler.yaml").path) {
            throw ButlerError.configuration("a repository already exists at \(root.path)")
        }
        do { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            throw ButlerError.configuration("cannot create the repository directory \(root.path)", cause: error)
        }
    }

    /// Writes `butler.yaml` into a repository root.
    public func write(root: URL) throws {
        let text = try YAMLSupport.encode(self)
        try Data(text.utf8).write(to: root.appendingPathComponent("butler.yaml"), options: .atomic)
    }
}

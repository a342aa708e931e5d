package import Composites
package import Formatters
public import Foundation

/// What a datastore does (daf_butler's `Datastore`): decides *what* is stored for a dataset and
/// how — artifacts, formatters, composites, checksums, trash — and keeps one record per artifact
/// in the registry database, so that a dataset and its artifacts are registered in one
/// transaction. *Where* bytes live is an ``ArtifactStorage`` below it.
///
/// A new kind of store (chained, in-memory) is a `Datastore`; a new place for bytes (S3, HTTP)
/// is an `ArtifactStorage` under ``FileDatastore``. The ``Butler`` holds `any Datastore` and
/// never a path.
///
/// Concurrency: a datastore is shared by every task of a Butler. Methods taking an
/// ``SQLSession`` run inside the caller's registry unit of work; the others do file or network
/// I/O and must not be called inside one.
package protocol Datastore: Sendable {
    /// The name its records carry (`FileDatastore@<butlerRoot>`), so that several datastores
    /// (a chain) can share the record tables.
    var name: String { get }

    /// Creates the datastore's tables in a new repository.
    func createSchema(_ session: any SQLSession) throws

    // MARK: Writing: prepare outside the transaction, commit inside it, then finish or abandon

    /// Writes `value` for `ref` where nobody sees it yet; ``makeDurable(_:)`` syncs a batch of
    /// such writes and ``DatastoreWrite/commit(_:)`` publishes each inside the registry
    /// transaction.
    func prepare(_ value: any Sendable, for ref: DatasetRef, storageClass: StorageClass) throws -> any DatastoreWrite

    /// Brings an existing file in as the artifact of `ref` by `transfer` (nothing the user
    /// owns is changed before the registry commits; `move` removes the source only after).
    /// `known` is what an export recorded of the file: its size is checked, and its checksum
    /// taken instead of reading the file again when it is by this datastore's algorithm.
    func prepareIngest(
        _ file: URL, for ref: DatasetRef, formatter: String?, transfer: TransferMode, known: KnownArtifact?
    ) throws
        -> any DatastoreWrite

    /// Makes the bytes of writes this datastore prepared durable (if it syncs), with one barrier
    /// for the whole batch, before their registry transaction starts.
    func makeDurable(_ writes: [any DatastoreWrite]) throws
    /// Makes the names the writes published durable (if it syncs), inside the registry
    /// transaction after every write's commit and before the transaction commits: a committed
    /// row never names an artifact a power cut could lose.
    func makePublicationDurable(_ writes: [any DatastoreWrite]) throws
    /// Commits many writes inside the caller's registry transaction, as each one's
    /// ``DatastoreWrite/commit(_:)`` would, in as few statements as the datastore can
    /// (imports and transfers of many datasets).
    func commit(_ writes: [any DatastoreWrite], session: any SQLSession) throws

    // MARK: Records

    /// The record table as a registry find attaches it, so that a get finds its dataset and
    /// the dataset's artifacts in one statement.
    var recordsAttachment: AttachedTable { get }
    /// The records among rows of ``recordsAttachment`` (none when the dataset has no artifact).
    func records(attached rows: [ArraySlice<SQLValue>], datasetId: UUID) -> [StoredFileInfo]
    /// The records of one dataset.
    func records(_ session: any SQLSession, datasetId: UUID) throws -> [StoredFileInfo]
    /// The records of many datasets, by ID, in as few statements as the datastore can.
    func records(_ session: any SQLSession, datasetIds: [UUID]) throws -> [UUID: [StoredFileInfo]]
    /// Inserts records made elsewhere (an import), checking that each names an artifact this
    /// datastore can read.
    func importRecords(_ session: any SQLSession, _ records: [StoredFileInfo]) throws
    /// Whether a read of `component` with `parameters` reads only part of these records'
    /// artifacts (a cutout or a header component of a remote artifact), so that it needs their
    /// byte layouts (``withLayouts(_:_:)``) first.
    func readsInPart(_ records: [StoredFileInfo], component: String?, parameters: ReadParameters) -> Bool
    /// What keeps this datastore from storing datasets of `datasetType` (no formatter for it,
    /// a file template that cannot give unique paths…), as sentences; empty when it can.
    func configurationProblems(for datasetType: DatasetType) -> [String]
    /// Requests and bytes exchanged with remote storages so far.
    var transferStatistics: RemoteTransferStatistics { get }
    /// The records with the byte layouts recorded when their artifacts were written.
    func withLayouts(_ session: any SQLSession, _ records: [StoredFileInfo]) throws -> [StoredFileInfo]

    // MARK: Reading

    /// Reads a dataset, or one stored or derived component, as its storage class's type; a
    /// composite stored one artifact per component is assembled. Only the part that holds a
    /// component is read.
    func read(
        _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, component: String?, parameters: ReadParameters
    ) throws -> any Sendable
    /// Reads a whole dataset as `T` directly (structured formats decode any `Decodable`).
    func read<T>(
        _ type: T.Type, _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T
    /// Whether every recorded artifact exists.
    func exists(_ records: [StoredFileInfo]) throws -> Bool
    /// Where each recorded artifact is (daf_butler's `getURIs`).
    func urls(_ records: [StoredFileInfo]) throws -> [URL]
    /// Copies the recorded artifacts into a local directory, keeping their paths relative to
    /// the datastore root (or flat); returns the files written.
    func retrieveArtifacts(
        _ ref: DatasetRef, records: [StoredFileInfo], to destination: URL, preservePath: Bool, overwrite: Bool
    ) throws -> [URL]

    // MARK: Verification

    /// The records and trashed paths verification compares the storage with, read inside the
    /// caller's unit of work.
    func verificationInputs(_ session: any SQLSession) throws -> VerificationInputs
    /// Checks every recorded artifact (exists, size, and checksum when asked) and finds what a
    /// killed writer left: staged files and published files no record names, older than
    /// ``StagedArtifact/leftoverAge``. `repositoryFiles` (the registry database, `butler.yaml`)
    /// are never reported.
    func verify(
        _ inputs: VerificationInputs, checksums: Bool, excluding repositoryFiles: Set<String>, progress: ProgressCounter?
    ) throws
        -> VerificationReport
    /// Removes the leftovers and orphans of a report, inside the caller's transaction; an
    /// orphan a record has named since is kept. Returns the paths removed.
    func repair(_ session: any SQLSession, _ report: VerificationReport) throws -> [String]

    // MARK: Removal (two phases)

    /// Moves the records of datasets to the trash, inside the caller's transaction.
    func trash(_ session: any SQLSession, datasetIds: [UUID]) throws
    /// Deletes trashed artifacts no record names any more; returns their paths.
    func emptyTrash(_ session: any SQLSession, progress: ProgressCounter?) throws -> [String]
}

/// A write a datastore prepared: its bytes are in place under a name nobody reads, waiting for
/// the registry transaction that registers the dataset.
package protocol DatastoreWrite: Sendable {
    /// The records of the staged artifacts (path, size, checksum), before they are committed.
    var records: [StoredFileInfo] { get }
    /// Records the artifacts and publishes them, inside the registry transaction.
    func commit(_ session: any SQLSession) throws
    /// Undoes everything after a failed transaction: nothing stays visible.
    func abandon()
    /// Completes the write after its transaction committed (a `move` ingest removes its source).
    func finish()
}

/// What an export recorded of an artifact it lists: its size and checksum when exported.
package struct KnownArtifact: Sendable, Hashable {
    /// Its size in bytes.
    package let size: Int64
    /// Its recorded checksum (`crc32c:<hex>`), if it had one.
    package let checksum: String?

    package init(size: Int64, checksum: String?) {
        self.size = size
        self.checksum = checksum
    }
}

/// What the datastore records about one artifact (daf_butler's `StoredFileInfo`).
public struct StoredFileInfo: Sendable, Hashable, Codable {
    /// The dataset the artifact belongs to.
    public let datasetId: UUID
    /// The component stored in this artifact (empty for the whole dataset).
    public let component: String
    /// Path relative to the datastore root, or absolute for files ingested in place.
    public let path: String
    /// The formatter that reads it.
    public let formatter: String
    /// The storage class it was written as.
    public let storageClass: String
    /// Size in bytes.
    public let fileSize: Int64
    /// `crc32c:<hex>` or `sha256:<hex>`, or nil when checksums are off.
    public let checksum: String?
    /// The name of the datastore holding it (a chain's member), when read from the registry.
    public let datastore: String?
    /// Where its pixels lie, when a ranged read of it needs to know (loaded on demand, never
    /// with the record).
    package var layout: ByteLayout?

    /// Describes one artifact.
    public init(
        datasetId: UUID, component: String, path: String, formatter: String, storageClass: String, fileSize: Int64, checksum: String?,
        datastore: String? = nil
    ) {
        self.datasetId = datasetId
        self.component = component
        self.path = path
        self.formatter = formatter
        self.storageClass = storageClass
        self.fileSize = fileSize
        self.checksum = checksum
        self.datastore = datastore
    }

    /// The same record for an artifact at another path.
    func at(path: String) -> StoredFileInfo {
        StoredFileInfo(
            datasetId: datasetId, component: component, path: path, formatter: formatter,
            storageClass: storageClass, fileSize: fileSize, checksum: checksum, datastore: datastore)
    }

    /// Whether the path is outside the datastore root (a file ingested in place, never deleted
    /// by the datastore).
    public var isExternal: Bool { path.hasPrefix("/") }
}

/// What verification compares a datastore's storage with.
package struct VerificationInputs: Sendable {
    /// Every record of the datastore.
    package let records: [StoredFileInfo]
    /// Paths in its trash (not yet deleted, not orphans).
    package let trashed: Set<String>
    /// A chain's: each member's inputs by its name.
    package var members: [String: VerificationInputs] = [:]
}

/// What `butler verify` found: artifacts that do not match their records, and files no
/// record names that a killed writer left behind.
public struct VerificationReport: Sendable, Codable, Equatable {
    /// An artifact that does not match its record.
    public struct Problem: Sendable, Codable, Equatable {
        /// The dataset whose record it is.
        public let datasetId: UUID
        /// The recorded path.
        public let path: String
        /// What is wrong.
        public let reason: String
    }

    /// How many recorded artifacts were checked.
    public var checked = 0
    /// Recorded artifacts that do not exist.
    public var missing: [Problem] = []
    /// Recorded artifacts whose size or checksum differs from the record.
    public var corrupt: [Problem] = []
    /// Files no record or trash entry names (published by a writer killed before its commit).
    public var orphans: [String] = []
    /// Staged files never published (a writer killed before publication).
    public var leftovers: [String] = []
    /// What a repair removed.
    public var removed: [String] = []

    /// Creates an empty report.
    public init() {}

    /// True when every artifact matches its record and nothing stray remains.
    public var isClean: Bool {
        missing.isEmpty && corrupt.isEmpty && Set(orphans + leftovers).isSubset(of: Set(removed))
    }
}

/// How ingest brings a file into the repository (daf_butler's `--transfer`).
public enum TransferMode: String, Sendable, CaseIterable {
    /// Copy the file's bytes under the datastore root (a symbolic link is followed).
    case copy
    /// Move it under the root: the source disappears once the dataset is registered (across
    /// file systems it is copied, then removed).
    case move
    /// Leave it in place and put a symbolic link under the root.
    case symlink
    /// Hard-link it under the root; fails (never moves) where the file system refuses a link.
    case hardlink
    /// Record its absolute path; the datastore never moves or deletes it.
    case direct
}

extension Datastore {
    /// One dataset at a time.
    package func records(_ session: any SQLSession, datasetIds: [UUID]) throws -> [UUID: [StoredFileInfo]] {
        var result: [UUID: [StoredFileInfo]] = [:]
        for id in datasetIds { result[id] = try records(session, datasetId: id) }
        return result
    }

    /// One write at a time.
    package func commit(_ writes: [any DatastoreWrite], session: any SQLSession) throws {
        for write in writes { try write.commit(session) }
    }
}

package import Formatters
package import Foundation

/// Where a datastore's bytes live: a POSIX directory (``LocalStorage``) or an S3 bucket
/// (``S3Storage``). Paths are the
/// datastore's recorded paths, relative to the storage root (absolute ones name files ingested
/// in place, outside it).
///
/// A new artifact is written in steps, so that nothing is visible before the registry commits:
/// ``stage(_:)`` gives a local file for the formatter to fill (on POSIX a hidden name in the
/// final directory), ``seal(_:)`` closes it, ``sync(_:)`` makes a whole batch of staged bytes
/// durable with one barrier before the registry transaction, ``publish(_:replacing:)`` gives
/// each its final name inside the transaction and ``syncNames(of:)`` makes those names durable
/// before the commit. On a store without rename (S3) the registry commit is the publication
/// point.
///
/// Concurrency: storages are shared by every task of a Butler and keep no per-call state.
package protocol ArtifactStorage: Sendable {
    /// Where the storage is, for messages and `butler.yaml` (a directory, a bucket URL).
    var location: String { get }

    /// Checks that the storage can be reached and written, before a repository is created on
    /// it (a directory can be made; a bucket exists and the credentials are accepted).
    func checkReachable() throws

    // MARK: Writing

    /// A local file for the bytes of a new artifact at `path`, under a name nobody reads.
    func stage(_ path: String) throws -> StagedArtifact
    /// Stages the bytes of an existing local file by `transfer` (copy, hard link, symbolic
    /// link or move); the source is not changed until ``finish(_:)``.
    func stage(_ path: String, from source: String, transfer: TransferMode) throws -> StagedArtifact
    /// The size of a staged artifact, once the formatter has written it.
    func seal(_ staged: StagedArtifact) throws -> Int64
    /// Makes the bytes of staged artifacts durable: one barrier for the batch (POSIX: an fsync
    /// each, or one `syncfs` for many).
    func sync(_ staged: [StagedArtifact]) throws
    /// Gives a staged artifact its final name and returns true, or returns false without
    /// changing anything when that name exists and `replacing` is false.
    func publish(_ staged: StagedArtifact, replacing: Bool) throws -> Bool
    /// Makes the names given by ``publish(_:replacing:)`` durable (POSIX: an fsync of each
    /// directory once).
    func syncNames(of paths: [String]) throws
    /// Removes what staging left (a staged name, and only that).
    func discard(_ staged: StagedArtifact)
    /// Completes a staged write after its transaction committed: the staged name goes (it was
    /// kept beside the published one as a marker, ``StagingLeftover``), and a move removes its
    /// source.
    func finish(_ staged: StagedArtifact)

    // MARK: Reading

    /// A local file holding the recorded artifact's bytes, for readers that need a path
    /// (cfitsio, HDF5). A remote storage downloads it into its cache first, calling `admit`
    /// with the downloaded copy before anything reads it (the datastore checks the recorded
    /// checksum there); its error is thrown and the copy discarded. A local storage returns
    /// its file as is and never calls `admit`.
    func localFile(for record: StoredFileInfo, admit: (String) throws -> Void) throws -> String?
    /// Requests and bytes exchanged with a remote storage so far (zero for a local one).
    var transferStatistics: RemoteTransferStatistics { get }
    /// Whether reading part of an artifact is worth fetching only its byte ranges (a remote
    /// storage); a local one reads its files in place.
    var readsByRange: Bool { get }
    /// A file of the artifact's size holding the bytes a read with `need` touches at their
    /// offsets (the rest is a hole), for a reader that needs only those; it lasts as long as
    /// the returned object. The ranges come from the record's byte layout or, when none was
    /// recorded, from the file's own headers (`formatter`'s `metadataRanges`, then its
    /// `byteLayout`). Nil when a whole copy is at hand (a local file, a cached download) or the
    /// artifact cannot be read in part: read it whole.
    func partialFile(for record: StoredFileInfo, need: ByteLayout.Need, formatter: any FileFormatter) throws -> PartialArtifact?
    /// The checksum of the artifact's current bytes by `algorithm` (a remote artifact is read
    /// afresh, never from a cache), or nil when it does not exist.
    func checksum(of path: String, algorithm: ChecksumAlgorithm) throws -> String?
    /// The whole artifact.
    func read(_ path: String) throws -> Data
    /// A byte range of the artifact (a cutout's tiles).
    func read(_ path: String, range: Range<Int64>) throws -> Data
    /// The artifact's size, or nil when it does not exist.
    func size(of path: String) throws -> Int64?
    /// Whether the artifact is a regular file (a FIFO or device would block or never end).
    func isRegularFile(_ path: String) throws -> Bool
    /// The size of a regular file, nil when there is none.
    /// - Throws: ``ButlerError/Code/storageFailure`` when it is not a regular file.
    func regularFileSize(of path: String) throws -> Int64?
    /// The artifact's URL (daf_butler's `getURI`).
    func url(for path: String) throws -> URL
    /// Copies the artifact to the local file `destination`, creating its directory; an
    /// existing file there is an error unless `overwrite`.
    func retrieve(_ path: String, to destination: URL, overwrite: Bool) throws
    /// Every artifact under `prefix` (relative paths, sorted; names staging left are listed
    /// too).
    func list(under prefix: String) throws -> [ArtifactListing]
    /// What killed writers left beside `path` (in its directory), looked at once per directory
    /// and process: the next write there resolves them (``StagingLeftover``). Staged files of
    /// live writers are not listed.
    func leftovers(besides path: String) -> [StagingLeftover]

    // MARK: Removal

    /// Deletes an artifact (nothing when absent) and, on POSIX, the directories it empties.
    func delete(_ path: String) throws
}

/// One artifact as a storage lists it.
package struct ArtifactListing: Sendable, Hashable {
    /// Its path relative to the storage root.
    package let path: String
    /// Its size in bytes.
    package let size: Int64
    /// When it was last written.
    package let modified: Date
    /// Whether the name is one staging gives.
    package let isStaged: Bool
    /// For a staged name, what it is as a leftover when its writer is gone or it is older
    /// than ``StagedArtifact/leftoverAge``; nil otherwise.
    package let leftover: StagingLeftover?

    /// Describes a listed artifact.
    package init(path: String, size: Int64, modified: Date, isStaged: Bool, leftover: StagingLeftover? = nil) {
        self.path = path
        self.size = size
        self.modified = modified
        self.isStaged = isStaged
        self.leftover = leftover
    }
}

/// A staged file whose writer was killed (or that is older than
/// ``StagedArtifact/leftoverAge``). A writer keeps its staged name until its registry
/// transaction has committed, so a leftover whose final name is the same file was published
/// by a writer that may not have committed: the final name is an orphan unless a record names
/// it, which only the datastore can tell, under the path's lock.
package struct StagingLeftover: Sendable, Hashable {
    /// The staged file (a path relative to the storage root).
    package let staged: String
    /// The final path the staged file was published at, when it was.
    package let published: String?

    /// Describes a leftover.
    package init(staged: String, published: String?) {
        self.staged = staged
        self.published = published
    }
}

/// The bytes of a new artifact between staging and publication.
package struct StagedArtifact: Sendable, Hashable {
    /// The artifact's final path (relative to the storage root).
    package let path: String
    /// The local file holding its bytes now.
    package let localFile: String
    /// A file to remove once the artifact is published and registered (a `move` ingest's source).
    package let sourceToRemove: String?

    /// How old a staged file (or a published one no record names) must be to count as a
    /// leftover of a killed writer: a write publishes and commits within seconds of staging
    /// (its data is written first), so ten minutes is far beyond a live one.
    package static let leftoverAge: TimeInterval = 600

    /// Describes a staged artifact.
    package init(path: String, localFile: String, sourceToRemove: String? = nil) {
        self.path = path
        self.localFile = localFile
        self.sourceToRemove = sourceToRemove
    }
}

extension ArtifactStorage {
    /// By ``size(of:)`` and ``isRegularFile(_:)`` (local storage does it with one `stat`).
    package func regularFileSize(of path: String) throws -> Int64? {
        guard let size = try size(of: path) else { return nil }
        guard try isRegularFile(path) else { throw ButlerError(.storageFailure, "\(path) is not a regular file") }
        return size
    }
}

package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Artifacts in an S3 bucket under a key prefix (`s3://BUCKET/PREFIX`), read through a local
/// ``ArtifactCache``.
///
/// S3 has no rename, so the registry commit is the publication point: a new artifact is
/// staged in a local file, uploaded under its final key by ``publish(_:replacing:)`` inside the
/// registry transaction (which holds the path's lock) with a conditional `If-None-Match: *` PUT,
/// and deleted again if the transaction fails. A writer killed between upload and commit leaves an object no record names — an
/// orphan, which `butler verify` reports once it is older than ``StagedArtifact/leftoverAge``
/// and `verify --fix` removes. No zero-byte "directory" objects are ever written.
///
/// Paths starting with `/` name local files ingested in place (`direct`) and are read locally.
///
/// Concurrency: shared by every task of a Butler; requests go through the process's
/// ``HTTPTransport``.
package struct S3Storage: RemoteArtifactStorage {
    /// The bucket's client.
    package let client: S3Client
    /// Where downloaded artifacts are kept.
    package let cache: ArtifactCache
    /// The local directory staged artifacts are written in.
    package let scratchDirectory: String

    package var reader: S3Client { client }

    /// A storage on the bucket and prefix `settings` name.
    package init(settings: S3Settings, cache: ArtifactCache) throws {
        client = S3Client(settings: settings)
        self.cache = cache
        scratchDirectory = try Self.makeScratchDirectory(in: cache)
    }

    package var location: String { client.settings.location }

    package func checkReachable() throws { try client.checkBucket() }

    package func key(_ path: String) throws -> String { try key(path, prefix: client.settings.prefix) }

    /// The artifact path of an object key.
    private func path(ofKey key: String) -> String {
        client.settings.prefix.isEmpty ? key : String(key.dropFirst(client.settings.prefix.count + 1))
    }

    // MARK: Writing

    package func stage(_ path: String) throws -> StagedArtifact {
        _ = try key(path)
        let name = "\(UUID().uuidString)-" + (path.split(separator: "/").last.map(String.init) ?? "artifact")
        return StagedArtifact(path: path, localFile: scratchDirectory + "/" + name)
    }

    package func stage(_ path: String, from source: String, transfer: TransferMode) throws -> StagedArtifact {
        _ = try key(path)
        var info = stat()
        guard stat(source, &info) == 0 else {
            throw ButlerError(.missingArtifact, "cannot ingest \(source): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ButlerError(.storageFailure, "cannot ingest \(source): it is not a regular file")
        }
        switch transfer {
        case .copy:
            // Uploaded straight from the user's file, never changed.
            return StagedArtifact(path: path, localFile: source)
        case .move:
            return StagedArtifact(path: path, localFile: source, sourceToRemove: source)
        case .symlink, .hardlink, .direct:
            throw ButlerError(
                .invalidArgument,
                "cannot \(transfer.rawValue) \(source) into \(location): an object store holds copies only; use transfer copy or move")
        }
    }

    package func seal(_ staged: StagedArtifact) throws -> Int64 {
        var info = stat()
        guard stat(staged.localFile, &info) == 0 else {
            throw ButlerError(.storageFailure, "cannot stat the staged artifact \(staged.localFile): \(String(cString: strerror(errno)))")
        }
        return Int64(info.st_size)
    }

    /// Nothing to sync: an upload is durable when S3 acknowledges it.
    package func sync(_ staged: [StagedArtifact]) throws {}

    package func publish(_ staged: StagedArtifact, replacing: Bool) throws -> Bool {
        // One conditional request: a retried PUT whose answer was lost finds its own object
        // and says false; the datastore then sees no other owner and replaces it.
        try client.upload(try key(staged.path), file: staged.localFile, ifAbsent: !replacing)
    }

    /// Nothing to sync: S3 has no directories.
    package func syncNames(of paths: [String]) throws {}

    package func discard(_ staged: StagedArtifact) {
        // Only our own staging files; a copy or move ingest stages the user's file itself.
        if staged.localFile.hasPrefix(scratchDirectory + "/") { _ = unlink(staged.localFile) }
    }

    package func finish(_ staged: StagedArtifact) {
        discard(staged)
        if let source = staged.sourceToRemove { _ = unlink(source) }
    }

    // MARK: Reading

    package func url(for path: String) throws -> URL {
        if path.hasPrefix("/") { return URL(filePath: path, directoryHint: .notDirectory) }
        let encoded = S3Request.encodePath(try key(path))
        guard let url = URL(string: "s3://\(client.settings.bucket)/\(encoded)") else {
            throw ButlerError(.storageFailure, "artifact path '\(path)' makes no URL under \(location)")
        }
        return url
    }

    package func list(under prefix: String) throws -> [ArtifactListing] {
        let base = client.settings.prefix
        let listPrefix = [base, prefix].filter { !$0.isEmpty }.joined(separator: "/")
        let objects = try client.list(prefix: listPrefix.isEmpty ? "" : listPrefix + "/")
        return objects.map { ArtifactListing(path: path(ofKey: $0.key), size: $0.size, modified: $0.modified, isStaged: false) }
    }

    // MARK: Removal

    package func delete(_ path: String) throws {
        guard !path.hasPrefix("/") else { return }
        try client.delete(try key(path))
    }
}

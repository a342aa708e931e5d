package import Foundation

/// Reads objects from a web server under a base URL: GET (ranged for cutouts) and HEAD for
/// sizes, retried as every remote request is (``HTTPTransport``).
package struct HTTPObjectReader: RemoteObjectReader {
    /// The base URL, without a trailing slash.
    package let base: String
    /// How requests are retried.
    package var retry: RetryPolicy = .standard

    /// A reader under `base` (`https://host/path`).
    package init(base: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    package func url(_ key: String) -> String { base + "/" + S3Request.encodePath(key) }

    private func request(_ method: String, _ key: String, headers: [(String, String)] = []) -> () -> HTTPRequestParts {
        { HTTPRequestParts(method: method, url: url(key), headers: headers) }
    }

    private func failure(_ what: String, _ key: String, _ reply: HTTPReply) -> ButlerError {
        switch reply.status {
        case 401, 403:
            return ButlerError(.storageFailure, "\(what) \(url(key)): refused by the server (HTTP \(reply.status))")
        case 416:
            return ButlerError(.invalidParameter, "\(what) \(url(key)): the byte range is outside the file (HTTP 416)")
        default:
            return ButlerError(
                .storageFailure, "\(what) \(url(key)): HTTP \(reply.status)", isRetryable: HTTPTransport.isRetryable(reply))
        }
    }

    package func get(_ key: String, range: Range<Int64>?) throws -> Data? {
        guard let headers = HTTPReply.rangeHeaders(range) else { return Data() }
        let reply = try HTTPTransport.shared.send("get", policy: retry, request("GET", key, headers: headers))
        if reply.status == 404 || reply.status == 410 { return nil }
        guard reply.isSuccess else { throw failure("get", key, reply) }
        return reply.bytes(of: range)
    }

    package func download(_ key: String, to destination: String) throws -> Bool {
        let reply = try HTTPTransport.shared.send("download", policy: retry, download: destination, request("GET", key))
        if reply.status == 404 || reply.status == 410 { return false }
        guard reply.isSuccess else { throw failure("download", key, reply) }
        return true
    }

    package func objectSize(_ key: String) throws -> Int64? {
        let reply = try HTTPTransport.shared.send("look up", policy: retry, request("HEAD", key))
        if reply.status == 404 || reply.status == 410 { return nil }
        guard reply.isSuccess else { throw failure("look up", key, reply) }
        return reply.headers["content-length"].flatMap(Int64.init)
    }

    /// The entries of a directory from the server's JSON index (nginx `autoindex_format json`),
    /// or nil when the server gives none.
    func index(of directory: String) throws -> [(name: String, isDirectory: Bool, size: Int64, modified: Date)]? {
        let key = directory.isEmpty ? "" : directory + "/"
        let reply = try HTTPTransport.shared.send("list", policy: retry) {
            HTTPRequestParts(method: "GET", url: base + "/" + S3Request.encodePath(key), headers: [("Accept", "application/json")])
        }
        if reply.status == 404 { return [] }
        guard reply.isSuccess, let entries = try? JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]] else { return nil }
        let parseDate = HTTPTransport.httpDateParser()
        return entries.compactMap { entry in
            guard let name = entry["name"] as? String else { return nil }
            let modified = (entry["mtime"] as? String).flatMap(parseDate) ?? .distantPast
            return (name, entry["type"] as? String == "directory", (entry["size"] as? NSNumber)?.int64Value ?? 0, modified)
        }
    }
}

/// Artifacts on a web server (`https://host/path` or `http://…` as the datastore root),
/// read-only: ranged GET, HEAD, downloads through the ``ArtifactCache`` with the recorded
/// checksum checked before an artifact enters it. A repository whose datastore root is such a
/// URL answers gets, cutouts, components, queries and `verify`; writes are refused naming the
/// URL. Listing (for `verify`'s orphan search) reads the server's JSON directory index
/// (nginx `autoindex_format json`); a server without one cannot be listed.
package struct HTTPStorage: RemoteArtifactStorage {
    /// The server's reader.
    package let reader: HTTPObjectReader
    /// Where downloaded artifacts are kept.
    package let cache: ArtifactCache
    /// A local directory for verification downloads.
    package let scratchDirectory: String

    /// A storage under `root`.
    package init(root: String, cache: ArtifactCache) throws {
        reader = HTTPObjectReader(base: root)
        self.cache = cache
        scratchDirectory = try Self.makeScratchDirectory(in: cache)
    }

    package var location: String { reader.base }

    package func key(_ path: String) throws -> String { try key(path, prefix: "") }

    private func readOnly(_ operation: String) -> ButlerError {
        ButlerError(.readOnly, "\(operation) in the datastore at \(location) (an http(s) root is read-only)")
    }

    package func checkReachable() throws { throw readOnly("creating a repository") }

    // MARK: Writing: refused

    package func stage(_ path: String) throws -> StagedArtifact { throw readOnly("writing \(path)") }
    package func stage(_ path: String, from source: String, transfer: TransferMode) throws -> StagedArtifact {
        throw readOnly("ingesting \(source)")
    }
    package func seal(_ staged: StagedArtifact) throws -> Int64 { throw readOnly("writing \(staged.path)") }
    package func sync(_ staged: [StagedArtifact]) throws {}
    package func publish(_ staged: StagedArtifact, replacing: Bool) throws -> Bool { throw readOnly("writing \(staged.path)") }
    package func syncNames(of paths: [String]) throws {}
    package func discard(_ staged: StagedArtifact) {}
    package func finish(_ staged: StagedArtifact) {}
    package func delete(_ path: String) throws { throw readOnly("deleting \(path)") }

    // MARK: Reading

    package func url(for path: String) throws -> URL {
        if path.hasPrefix("/") { return URL(filePath: path, directoryHint: .notDirectory) }
        guard let url = URL(string: reader.url(try key(path))) else {
            throw ButlerError(.storageFailure, "artifact path '\(path)' makes no URL under \(location)")
        }
        return url
    }

    package func list(under prefix: String) throws -> [ArtifactListing] {
        var listings: [ArtifactListing] = []
        var pending = [prefix]
        while let directory = pending.popLast() {
            guard let entries = try reader.index(of: directory) else {
                throw ButlerError(.storageFailure, "cannot list \(location)/\(directory): the server gives no JSON directory index")
            }
            for entry in entries {
                let path = directory.isEmpty ? entry.name : directory + "/" + entry.name
                if entry.isDirectory {
                    pending.append(path)
                } else {
                    listings.append(ArtifactListing(path: path, size: entry.size, modified: entry.modified, isStaged: false))
                }
            }
        }
        return listings.sorted { $0.path < $1.path }
    }
}

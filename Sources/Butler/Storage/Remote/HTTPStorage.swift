package import Foundation
import Synchronization

/// Reads objects from a web server under a base URL: GET (ranged for cutouts) and HEAD for
/// sizes, retried as every remote request is (``HTTPTransport``).
package struct HTTPObjectReader: RemoteObjectReader {
    /// The base URL, without a trailing slash.
    package let base: String
    /// What this reader has sent and received.
    package let counters = TransferCounters()
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
        let reply = try HTTPTransport.shared.send("get", policy: retry, counting: counters, request("GET", key, headers: headers))
        if reply.status == 404 || reply.status == 410 { return nil }
        guard reply.isSuccess else { throw failure("get", key, reply) }
        return reply.bytes(of: range)
    }

    /// Ranges travel together (one request for up to ``rangesPerRequest``): only touching
    /// ones are merged.
    package var coalescingGap: Int64 { 0 }

    /// Ranges asked for in one request at most (nginx reads request headers into 8 KiB).
    static let rangesPerRequest = 200

    /// Several ranges in one request each of up to ``rangesPerRequest`` (HTTP's
    /// `multipart/byteranges`, which web servers answer and S3 does not): a cutout's headers
    /// and tiles in one round trip.
    package func get(_ key: String, ranges: [Range<Int64>], receive: @escaping @Sendable (Range<Int64>, Data) throws -> Void) throws -> Bool
    {
        let batches = stride(from: 0, to: ranges.count, by: Self.rangesPerRequest).map {
            Array(ranges[$0..<min($0 + Self.rangesPerRequest, ranges.count)])
        }
        let missing = Atomic<Bool>(false)
        try concurrently(batches, width: 4) { batch in
            if batch.count == 1 {
                guard let data = try get(key, range: batch[0]) else { return missing.store(true, ordering: .relaxed) }
                return try receive(batch[0], data)
            }
            let spec = batch.map { "\($0.lowerBound)-\($0.upperBound - 1)" }.joined(separator: ",")
            let reply = try HTTPTransport.shared.send(
                "get \(batch.count) ranges of", policy: retry, counting: counters,
                request("GET", key, headers: [("Range", "bytes=" + spec)]))
            if reply.status == 404 || reply.status == 410 { return missing.store(true, ordering: .relaxed) }
            guard reply.isSuccess else { throw failure("get \(batch.count) ranges of", key, reply) }
            for (range, data) in try Self.parts(of: reply, asked: batch, url: url(key)) { try receive(range, data) }
        }
        return !missing.load(ordering: .relaxed)
    }

    /// The ranges a reply to a several-range request holds: the parts of a
    /// `multipart/byteranges` body, or slices of a whole body (a server that ignored the
    /// ranges), or the one range a server merged them into. Slices share the body's storage
    /// (copying them was a fifth of a cutout's time); their indices are the body's.
    static func parts(of reply: HTTPReply, asked: [Range<Int64>], url: String) throws -> [(Range<Int64>, Data)] {
        func slices(of body: Data, at start: Int64) -> [(Range<Int64>, Data)]? {
            let end = start + Int64(body.count)
            guard asked.allSatisfy({ $0.lowerBound >= start && $0.upperBound <= end }) else { return nil }
            return asked.map { range in
                let lower = body.startIndex + Int(range.lowerBound - start)
                return (range, body[lower..<lower + range.count])
            }
        }
        if reply.status == 200, let whole = slices(of: reply.body, at: 0) { return whole }
        let type = reply.headers["content-type"] ?? ""
        guard type.lowercased().hasPrefix("multipart/byteranges"),
            let boundary = type.split(separator: ";").lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.lowercased().hasPrefix("boundary=") })?.dropFirst("boundary=".count)
        else {
            // One range: the server may coalesce neighbours into a single part.
            if let (start, _) = reply.headers["content-range"].flatMap(Self.bounds), let merged = slices(of: reply.body, at: start) {
                return merged
            }
            throw ButlerError(
                .storageFailure, "\(url) answered a request for \(asked.count) byte ranges with \(type.isEmpty ? "no content type" : type)")
        }
        let delimiter = Array("--\(boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))".utf8)
        let headerEnd = Array("\r\n\r\n".utf8)
        let body = reply.body
        // Searched in place (memchr for the first byte, then a compare): Data.range(of:)
        // copies the whole body on each call.
        func find(_ needle: [UInt8], from offset: Int) -> Int? {
            body.withUnsafeBytes { raw -> Int? in
                guard let base = raw.baseAddress, let first = needle.first else { return nil }
                var position = offset
                while position + needle.count <= raw.count {
                    guard let hit = memchr(base + position, Int32(first), raw.count - position) else { return nil }
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    guard index + needle.count <= raw.count else { return nil }
                    if needle.withUnsafeBytes({ memcmp(base + index, $0.baseAddress!, needle.count) }) == 0 { return index }
                    position = index + 1
                }
                return nil
            }
        }
        var parts: [(Range<Int64>, Data)] = []
        var cursor = 0
        while let mark = find(delimiter, from: cursor), let headers = find(headerEnd, from: mark + delimiter.count) {
            let text = String(decoding: body[(body.startIndex + mark + delimiter.count)..<(body.startIndex + headers)], as: UTF8.self)
            guard
                let line = text.split(whereSeparator: \.isNewline).first(where: { $0.lowercased().hasPrefix("content-range:") }),
                let (start, end) = Self.bounds(String(line.dropFirst("content-range:".count)))
            else { break }
            let dataStart = headers + headerEnd.count
            let count = Int(end - start + 1)
            guard body.count - dataStart >= count else {
                throw ButlerError(.storageFailure, "\(url): a part of the multi-range answer is cut short", isRetryable: true)
            }
            parts.append((start..<end + 1, body[(body.startIndex + dataStart)..<(body.startIndex + dataStart + count)]))
            cursor = dataStart + count
        }
        // Each range asked for, from the part that holds it (servers may merge neighbours).
        return try asked.map { range in
            guard let part = parts.first(where: { $0.0.lowerBound <= range.lowerBound && $0.0.upperBound >= range.upperBound }) else {
                throw ButlerError(
                    .storageFailure, "\(url) did not send bytes \(range.lowerBound)..<\(range.upperBound) it was asked for",
                    isRetryable: true)
            }
            let lower = part.1.startIndex + Int(range.lowerBound - part.0.lowerBound)
            return (range, part.1[lower..<lower + range.count])
        }
    }

    /// The first and last byte of a `Content-Range: bytes a-b/n` value.
    private static func bounds(_ value: String) -> (Int64, Int64)? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst(6).split(separator: "/").first ?? ""
        let ends = spec.split(separator: "-").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        return ends.count == 2 && ends[0] <= ends[1] ? (ends[0], ends[1]) : nil
    }

    package func download(_ key: String, to destination: String) throws -> Bool {
        let reply = try HTTPTransport.shared.send("download", policy: retry, download: destination, counting: counters, request("GET", key))
        if reply.status == 404 || reply.status == 410 { return false }
        guard reply.isSuccess else { throw failure("download", key, reply) }
        return true
    }

    package func objectSize(_ key: String) throws -> Int64? {
        let reply = try HTTPTransport.shared.send("look up", policy: retry, counting: counters, request("HEAD", key))
        if reply.status == 404 || reply.status == 410 { return nil }
        guard reply.isSuccess else { throw failure("look up", key, reply) }
        return reply.headers["content-length"].flatMap(Int64.init)
    }

    /// The entries of a directory from the server's JSON index (nginx `autoindex_format json`),
    /// or nil when the server gives none.
    func index(of directory: String) throws -> [(name: String, isDirectory: Bool, size: Int64, modified: Date)]? {
        let key = directory.isEmpty ? "" : directory + "/"
        let reply = try HTTPTransport.shared.send("list", policy: retry, counting: counters) {
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

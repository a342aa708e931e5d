package import Foundation
import Synchronization

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An object as S3 describes it.
package struct S3Object: Sendable, Equatable {
    /// Its key.
    package let key: String
    /// Its size in bytes.
    package let size: Int64
    /// When it was last written.
    package let modified: Date
    /// Its entity tag (quotes removed).
    package let etag: String?
}

/// The S3 operations a datastore needs, each a signed request (``SigV4Signer``, identical to
/// botocore's) sent through the shared ``HTTPTransport`` with retries: put (one request, or a
/// multipart upload in parallel parts above the threshold), get, ranged get, download to a file,
/// head, delete, list. Uploads carry `x-amz-content-sha256` of their bytes in the
/// signature, so S3 refuses a body that changed on the way (`XAmzContentSHA256Mismatch`).
///
/// Errors are ``ButlerError``s naming the operation and `s3://` URL: 404 of an object is an
/// answer (nil, false), a missing bucket is ``ButlerError/Code/configuration``, a refused
/// signature or access ``ButlerError/Code/storageFailure`` (final), 5xx after retries
/// ``ButlerError/Code/storageFailure`` (retryable).
package struct S3Client: RemoteObjectReader {
    /// Where and as whom.
    package let settings: S3Settings
    private let signer: SigV4Signer
    private let transport: HTTPTransport
    /// What this client has sent and received.
    package let counters = TransferCounters()

    /// A client for one bucket.
    package init(settings: S3Settings, transport: HTTPTransport = .shared) {
        self.settings = settings
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region)
        self.transport = transport
    }

    /// `s3://bucket/key`, for messages.
    package func url(_ key: String) -> String { "s3://\(settings.bucket)/\(key)" }

    /// The server's URL, for messages.
    private var endpoint: String { "\(settings.scheme)://\(settings.host)\(settings.port.map { ":\($0)" } ?? "")" }

    // MARK: Requests

    /// Signs and sends one request (signed again for each retry: a signature names its time).
    private func send(
        _ what: String, _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: Data? = nil, download: String? = nil
    ) throws -> HTTPReply {
        let payloadHash = body.map(S3Request.payloadHash(of:)) ?? S3Request.emptyPayloadHash
        let objectPath = key.map { "/" + $0 } ?? "/"
        let path = settings.pathStyle ? "/\(settings.bucket)" + (key == nil ? "" : objectPath) : objectPath
        let host = settings.pathStyle ? settings.host : "\(settings.bucket).\(settings.host)"
        var allHeaders = headers
        if let body { allHeaders.append(("Content-Length", String(body.count))) }
        let request = S3Request(
            method: method, scheme: settings.scheme, host: host, port: settings.port, path: S3Request.encodePath(path),
            query: query, headers: allHeaders, payloadHash: payloadHash)
        let base = "\(settings.scheme)://\(request.hostHeader)\(request.path)" + (query.isEmpty ? "" : "?" + request.encodedQuery)
        return try transport.send(what, policy: settings.retry, body: body, download: download, counting: counters) {
            let signed = signer.sign(request, date: Date()).filter { $0.0.lowercased() != "host" }
            return HTTPRequestParts(method: method, url: base, headers: signed)
        }
    }

    /// The error for a reply that is not what `what` needed.
    private func failure(_ what: String, _ reply: HTTPReply, key: String?) -> ButlerError {
        let code = HTTPTransport.errorCode(reply)
        let target = key.map(url) ?? "s3://\(settings.bucket)"
        switch (reply.status, code) {
        case (404, "NoSuchBucket"?):
            return ButlerError(.configuration, "\(what) \(target): bucket \(settings.bucket) does not exist at \(endpoint)")
        case (403, _):
            return ButlerError(
                .storageFailure,
                "\(what) \(target): access denied by \(endpoint) (\(code ?? "HTTP 403")); check the credentials and the bucket policy")
        case (416, _):
            return ButlerError(.invalidParameter, "\(what) \(target): the byte range is outside the object (HTTP 416)")
        default:
            return ButlerError(
                .storageFailure, "\(what) \(target): HTTP \(reply.status)\(code.map { " \($0)" } ?? ""): \(reply.bodyText)",
                isRetryable: HTTPTransport.isRetryable(reply))
        }
    }

    // MARK: Objects

    /// Writes an object from memory in one request; with `ifAbsent`, only where no object is
    /// (a conditional `If-None-Match: *` PUT) and returns false when one is.
    @discardableResult
    package func put(_ key: String, data: Data, ifAbsent: Bool = false) throws -> Bool {
        let reply = try send("put", "PUT", key: key, headers: ifAbsent ? [("If-None-Match", "*")] : [], body: data)
        if ifAbsent, reply.status == 412 { return false }
        guard reply.isSuccess else { throw failure("put", reply, key: key) }
        return true
    }

    /// Writes an object from a local file: one request below the multipart threshold, else a
    /// multipart upload whose parts go up in parallel (four at a time); a failed multipart
    /// upload is aborted, leaving nothing. With `ifAbsent`, nothing is written where an object
    /// is, and the answer is false (a conditional PUT, or a HEAD before a multipart upload).
    @discardableResult
    package func upload(_ key: String, file: String, ifAbsent: Bool = false) throws -> Bool {
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0
        if size < settings.multipartThreshold {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                throw ButlerError(.storageFailure, "cannot read \(file) to upload it to \(url(key))", cause: error)
            }
            return try put(key, data: data, ifAbsent: ifAbsent)
        }
        if ifAbsent, try head(key) != nil { return false }
        try multipartUpload(key, file: file, size: size)
        return true
    }

    private func multipartUpload(_ key: String, file: String, size: Int) throws {
        let created = try send("start multipart upload of", "POST", key: key, query: [("uploads", "")])
        guard created.isSuccess, let uploadId = XMLFields(created.body).first("UploadId") else {
            throw failure("start multipart upload of", created, key: key)
        }
        let partSize = settings.multipartThreshold
        let count = (size + partSize - 1) / partSize
        let etags = Mutex<[Int: String]>([:])
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file)) } catch {
            throw ButlerError(.storageFailure, "cannot read \(file) to upload it to \(url(key))", cause: error)
        }
        defer { try? handle.close() }
        let readLock = Mutex(())
        do {
            try concurrently(Array(0..<count), width: 4) { index in
                let data = try readLock.withLock { _ in
                    try handle.seek(toOffset: UInt64(index * partSize))
                    return try handle.read(upToCount: partSize) ?? Data()
                }
                let reply = try send(
                    "upload part \(index + 1) of \(count) of", "PUT", key: key,
                    query: [("partNumber", String(index + 1)), ("uploadId", uploadId)], body: data)
                guard reply.isSuccess, let etag = reply.headers["etag"] else {
                    throw failure("upload part \(index + 1) of", reply, key: key)
                }
                etags.withLock { $0[index + 1] = etag }
            }
        } catch {
            _ = try? send("abort multipart upload of", "DELETE", key: key, query: [("uploadId", uploadId)])
            throw error
        }
        let parts = etags.withLock { $0 }.sorted { $0.key < $1.key }
            .map { "<Part><PartNumber>\($0.key)</PartNumber><ETag>\(Self.escapeXML($0.value))</ETag></Part>" }
        let body = Data("<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>".utf8)
        let completed = try send("complete multipart upload of", "POST", key: key, query: [("uploadId", uploadId)], body: body)
        // A completion whose answer was lost is retried and finds its upload gone: the object
        // is there, whole, when its size is the file's.
        if completed.status == 404, HTTPTransport.errorCode(completed) == "NoSuchUpload", try head(key)?.size == Int64(size) { return }
        // S3 can answer 200 with an error document when completion fails late.
        guard completed.isSuccess, !completed.bodyText.contains("<Error>") else {
            _ = try? send("abort multipart upload of", "DELETE", key: key, query: [("uploadId", uploadId)])
            throw failure("complete multipart upload of", completed, key: key)
        }
    }

    /// An object's bytes (a `range` of them), or nil when it does not exist.
    package func get(_ key: String, range: Range<Int64>? = nil) throws -> Data? {
        guard let headers = HTTPReply.rangeHeaders(range) else { return Data() }
        let reply = try send("get", "GET", key: key, headers: headers)
        if reply.status == 404, HTTPTransport.errorCode(reply) != "NoSuchBucket" { return nil }
        guard reply.isSuccess else { throw failure("get", reply, key: key) }
        return reply.bytes(of: range)
    }

    /// Streams an object into the local file `destination` (replaced); returns false when the
    /// object does not exist (nothing written).
    package func download(_ key: String, to destination: String) throws -> Bool {
        let reply = try send("download", "GET", key: key, download: destination)
        if reply.status == 404, HTTPTransport.errorCode(reply) != "NoSuchBucket" { return false }
        guard reply.isSuccess else { throw failure("download", reply, key: key) }
        return true
    }

    package func objectSize(_ key: String) throws -> Int64? { try head(key)?.size }

    /// An object's size, date and entity tag, or nil when it does not exist.
    package func head(_ key: String) throws -> S3Object? {
        let reply = try send("look up", "HEAD", key: key)
        if reply.status == 404 {
            // HEAD has no body to tell a missing bucket from a missing key; ask the bucket.
            try checkBucket()
            return nil
        }
        guard reply.isSuccess else { throw failure("look up", reply, key: key) }
        return S3Object(
            key: key, size: reply.headers["content-length"].flatMap(Int64.init) ?? 0,
            modified: reply.headers["last-modified"].flatMap(HTTPTransport.httpDateParser()) ?? Date(),
            etag: reply.headers["etag"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) })
    }

    /// Throws ``ButlerError/Code/configuration`` when the bucket does not exist.
    package func checkBucket() throws {
        let reply = try send("look up bucket", "HEAD", key: nil)
        if reply.status == 404 {
            throw ButlerError(.configuration, "bucket \(settings.bucket) does not exist at \(endpoint)")
        }
        guard reply.isSuccess else { throw failure("look up bucket", reply, key: nil) }
    }

    /// Creates the bucket (for tests and new repositories on a private server); an existing
    /// one of ours is fine.
    package func createBucket() throws {
        let reply = try send("create bucket", "PUT", key: nil)
        guard reply.isSuccess || HTTPTransport.errorCode(reply) == "BucketAlreadyOwnedByYou" else {
            throw failure("create bucket", reply, key: nil)
        }
    }

    /// Deletes an object (nothing when absent).
    package func delete(_ key: String) throws {
        let reply = try send("delete", "DELETE", key: key)
        guard reply.isSuccess || reply.status == 404 && HTTPTransport.errorCode(reply) != "NoSuchBucket" else {
            throw failure("delete", reply, key: key)
        }
    }

    /// Every object whose key starts with `prefix`, in key order.
    package func list(prefix: String) throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        let parseDate = Self.isoDateParser()
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let reply = try send("list", "GET", key: nil, query: query)
            guard reply.isSuccess else { throw failure("list \(prefix) in", reply, key: nil) }
            let page = XMLFields(reply.body)
            let keys = page.values("Contents/Key"), sizes = page.values("Contents/Size")
            let dates = page.values("Contents/LastModified"), etags = page.values("Contents/ETag")
            for (index, key) in keys.enumerated() {
                objects.append(
                    S3Object(
                        key: key, size: index < sizes.count ? Int64(sizes[index]) ?? 0 : 0,
                        modified: index < dates.count ? parseDate(dates[index]) ?? Date() : Date(),
                        etag: index < etags.count ? etags[index].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : nil))
            }
            token = page.first("IsTruncated") == "true" ? page.first("NextContinuationToken") : nil
        } while token != nil
        return objects.sorted { $0.key < $1.key }
    }

    // MARK: Text

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A parser of S3's ISO 8601 dates (with or without fractional seconds), its formatters
    /// made once for a whole listing.
    static func isoDateParser() -> (String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let whole = ISO8601DateFormatter()
        whole.formatOptions = [.withInternetDateTime]
        return { fractional.date(from: $0) ?? whole.date(from: $0) }
    }
}

/// The text of an S3 XML document's elements by path below the root (`Contents/Key`), in
/// document order: all the S3 answers we read are flat records.
struct XMLFields {
    private var fields: [(path: String, text: String)] = []

    init(_ data: Data) {
        let collector = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        _ = parser.parse()
        fields = collector.fields
    }

    /// Every text at `path` (a suffix of the element path: `Key` matches `Contents/Key`).
    func values(_ path: String) -> [String] {
        fields.filter { $0.path == path || $0.path.hasSuffix("/" + path) }.map(\.text)
    }

    /// The first text at `path`.
    func first(_ path: String) -> String? { values(path).first }

    private final class Collector: NSObject, XMLParserDelegate {
        var fields: [(path: String, text: String)] = []
        var stack: [String] = []
        var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String]
        ) {
            stack.append(elementName)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            // The path below the document element.
            fields.append((stack.dropFirst().joined(separator: "/"), text))
            stack.removeLast()
            text = ""
        }
    }
}

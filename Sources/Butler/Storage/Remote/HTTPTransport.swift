import AsyncHTTPClient
package import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a remote storage retries a request that failed in a way that may pass: connection
/// failures and resets, 5xx, 429 and S3's `SlowDown`/`RequestTimeout`. Delays grow
/// exponentially with full jitter (AWS's advice: a random delay between 0 and the exponential
/// bound, so that many clients retrying together spread out), a server's `Retry-After` is
/// honoured, and retrying stops when the next attempt would start after the time budget.
package struct RetryPolicy: Sendable, Equatable {
    /// The most attempts for one request (the first included).
    package var maxAttempts: Int
    /// The bound of the first delay, in seconds; each further one doubles it.
    package var baseDelay: TimeInterval
    /// The largest delay bound, in seconds.
    package var maxDelay: TimeInterval
    /// How long all attempts of one request may take together, in seconds.
    package var budget: TimeInterval

    /// Ten attempts within 60 s, delays from ≤50 ms up to ≤4 s.
    package static let standard = RetryPolicy(maxAttempts: 10, baseDelay: 0.05, maxDelay: 4, budget: 60)

    /// Describes a policy.
    package init(maxAttempts: Int, baseDelay: TimeInterval, maxDelay: TimeInterval, budget: TimeInterval) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.budget = budget
    }

    /// The delay before attempt `attempt + 1` (after `attempt` failures): the server's
    /// `Retry-After` when it gave one, else a random time up to the exponential bound.
    package func delay(afterFailures attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter { return min(max(retryAfter, 0), budget) }
        let bound = min(maxDelay, baseDelay * pow(2, Double(max(attempt - 1, 0))))
        return Double.random(in: 0...bound)
    }
}

/// A response read whole (or, for a download, with its body in a file).
package struct HTTPReply: Sendable {
    /// The status code.
    package let status: Int
    /// Response headers by lower-case name (repeated ones joined with commas).
    package let headers: [String: String]
    /// The body (empty for a download written to a file, or a HEAD).
    package let body: Data

    /// Whether the status is 2xx.
    package var isSuccess: Bool { (200..<300).contains(status) }
    /// The body as text, for error messages (at most 500 characters).
    package var bodyText: String { String(decoding: body.prefix(500), as: UTF8.self) }

    /// The `Range` header asking for `range` (none for the whole), or nil when the range is
    /// empty and no request is needed.
    package static func rangeHeaders(_ range: Range<Int64>?) -> [(String, String)]? {
        guard let range else { return [] }
        if range.isEmpty { return nil }
        return [("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")]
    }

    /// The bytes of `range` in a successful reply: a server that ignored the range (200, not
    /// 206) sent everything, of which the part asked for is kept.
    package func bytes(of range: Range<Int64>?) -> Data {
        guard let range, status == 200 else { return body }
        let lower = Int(range.lowerBound)
        guard lower <= body.count else { return Data() }
        return body.subdata(in: lower..<min(Int(range.upperBound), body.count))
    }
}

/// One request as a remote storage sends it; built again for each attempt (a signature names
/// its time).
package struct HTTPRequestParts: Sendable {
    /// GET, PUT, HEAD, DELETE, POST.
    package var method: String
    /// The full URL, its path and query already encoded.
    package var url: String
    /// Headers to send.
    package var headers: [(String, String)]

    /// Describes a request.
    package init(method: String, url: String, headers: [(String, String)]) {
        self.method = method
        self.url = url
        self.headers = headers
    }
}

/// The HTTP client every remote storage of a process shares (async-http-client over one
/// swift-nio event-loop group), called from the synchronous storage seam: each call blocks its
/// thread on a future the event loops complete, so it must not run on an event loop — storage
/// calls come from Butler tasks, never from swift-nio. Retries follow a ``RetryPolicy``.
///
/// Concurrency: one instance per process, shared; it keeps connections in a pool.
package final class HTTPTransport: Sendable {
    /// The process's transport.
    package static let shared = HTTPTransport()

    private let client: HTTPClient

    private init() {
        var configuration = HTTPClient.Configuration(
            // async-http-client keeps retrying a refused connection until the connect timeout:
            // an unreachable endpoint costs this long per attempt, then the retry budget rules.
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(5), read: .seconds(60)))
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Sends a request, retrying what may pass (see ``RetryPolicy``), and returns the reply —
    /// also a final 4xx, which the caller interprets. `download` names a local file to stream
    /// a successful body into (never a partial one: the caller writes to a name nobody reads).
    /// - Throws: ``ButlerError/Code/storageFailure`` naming `what` and the URL when every
    ///   attempt failed, retryable when the last failure was.
    package func send(
        _ what: String, policy: RetryPolicy, body: Data? = nil, download: String? = nil, counting counters: TransferCounters,
        _ makeRequest: () throws -> HTTPRequestParts
    ) throws -> HTTPReply {
        let start = Date()
        var attempt = 0
        while true {
            attempt += 1
            let parts = try makeRequest()
            let outcome: Result<HTTPReply, any Error>
            do {
                outcome = .success(try perform(parts, body: body, download: download, counters: counters))
            } catch {
                outcome = .failure(error)
            }
            let retryAfter: TimeInterval?
            let failure: String
            switch outcome {
            case .success(let reply):
                guard Self.isRetryable(reply) else { return reply }
                retryAfter = reply.headers["retry-after"].flatMap(Self.parseRetryAfter)
                failure = "HTTP \(reply.status) \(Self.errorCode(reply) ?? "")"
                if attempt >= policy.maxAttempts {
                    throw ButlerError(
                        .storageFailure,
                        "\(what): \(parts.method) \(parts.url) failed \(attempt) times, last with \(failure): \(reply.bodyText)",
                        isRetryable: true)
                }
            case .failure(let error):
                if let error = error as? ButlerError { throw error }
                retryAfter = nil
                failure = "\(error)"
                if attempt >= policy.maxAttempts {
                    throw ButlerError(
                        .storageFailure, "\(what): \(parts.method) \(parts.url) failed \(attempt) times", cause: error, isRetryable: true)
                }
            }
            let delay = policy.delay(afterFailures: attempt, retryAfter: retryAfter)
            if Date().timeIntervalSince(start) + delay > policy.budget {
                throw ButlerError(
                    .storageFailure,
                    "\(what): \(parts.method) \(parts.url) still failing after \(attempt) attempts in \(Int(Date().timeIntervalSince(start))) s (the retry budget is \(Int(policy.budget)) s), last with \(failure)",
                    isRetryable: true)
            }
            Thread.sleep(forTimeInterval: delay)
        }
    }

    /// One attempt.
    private func perform(_ parts: HTTPRequestParts, body: Data?, download: String?, counters: TransferCounters) throws -> HTTPReply {
        counters.requests.add(1, ordering: .relaxed)
        var headers = HTTPHeaders()
        for (name, value) in parts.headers { headers.add(name: name, value: value) }
        let request = try HTTPClient.Request(
            url: parts.url, method: HTTPMethod(rawValue: parts.method), headers: headers, body: body.map { .bytes($0) })
        if let download {
            try? FileManager.default.removeItem(atPath: download)
            let delegate = try FileDownloadDelegate(path: download)
            let progress: FileDownloadDelegate.Progress
            do { progress = try client.execute(request: request, delegate: delegate).futureResult.wait() } catch let error as IOError
                where [ENOSPC, EDQUOT, EROFS, EACCES, EPERM].contains(error.errnoCode)
            {
                // The local side failed (a full cache disk): no retry helps.
                try? FileManager.default.removeItem(atPath: download)
                throw ButlerError(
                    .storageFailure,
                    "cannot write \(download) while downloading \(parts.url): \(String(cString: strerror(error.errnoCode)))",
                    cause: error)
            }
            let head = progress.head
            let fields = Self.fields(head.headers)
            let status = Int(head.status.code)
            guard (200..<300).contains(status) else {
                // The file holds the error document, not the artifact.
                let text = (try? Data(contentsOf: URL(fileURLWithPath: download))) ?? Data()
                try? FileManager.default.removeItem(atPath: download)
                return HTTPReply(status: status, headers: fields, body: text)
            }
            counters.bytesReceived.add(progress.receivedBytes, ordering: .relaxed)
            if let total = progress.totalBytes, total != progress.receivedBytes {
                try? FileManager.default.removeItem(atPath: download)
                throw TruncatedBody(expected: total, received: progress.receivedBytes)
            }
            return HTTPReply(status: status, headers: fields, body: Data())
        }
        let response = try client.execute(request: request).wait()
        let fields = Self.fields(response.headers)
        var data = Data()
        // One copy out of swift-nio's buffer (through [UInt8] it was two).
        if let buffer = response.body { data = buffer.withUnsafeReadableBytes { Data($0) } }
        counters.bytesReceived.add(data.count, ordering: .relaxed)
        if parts.method != "HEAD", (200..<300).contains(Int(response.status.code)),
            let length = fields["content-length"].flatMap(Int.init), length != data.count
        {
            throw TruncatedBody(expected: length, received: data.count)
        }
        return HTTPReply(status: Int(response.status.code), headers: fields, body: data)
    }

    /// A body shorter than its Content-Length (a connection closed early): retried.
    struct TruncatedBody: Error, CustomStringConvertible {
        let expected: Int
        let received: Int
        var description: String { "truncated body: \(received) of \(expected) bytes" }
    }

    private static func fields(_ headers: HTTPHeaders) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            fields[key] = fields[key].map { "\($0),\(value)" } ?? value
        }
        return fields
    }

    /// Whether a reply is one to try again: 5xx, 429, and S3's 400 `RequestTimeout`.
    static func isRetryable(_ reply: HTTPReply) -> Bool {
        if reply.status >= 500 || reply.status == 429 { return true }
        return reply.status == 400 && errorCode(reply) == "RequestTimeout"
    }

    /// The `<Code>` of an S3 error document, if the body is one.
    static func errorCode(_ reply: HTTPReply) -> String? {
        let text = reply.bodyText
        guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func parseRetryAfter(_ value: String) -> TimeInterval? {
        if let seconds = TimeInterval(value.trimmingCharacters(in: .whitespaces)) { return seconds }
        return httpDateParser()(value).map { $0.timeIntervalSinceNow }
    }

    /// A parser of HTTP dates (`Last-Modified`, `Retry-After`, nginx's index): one formatter for
    /// all the dates of one answer (a formatter is costly to make and not shareable between
    /// threads).
    static func httpDateParser() -> (String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return { formatter.date(from: $0) }
    }
}

/// Requests and bytes a Butler exchanged with its remote storages
/// (``Butler/remoteTransferStatistics``).
public struct RemoteTransferStatistics: Sendable, Hashable {
    /// Requests sent, every attempt counted.
    public let requests: Int
    /// Response body bytes received.
    public let bytesReceived: Int
}

/// The running totals of one storage's requests (see ``RemoteTransferStatistics``).
package final class TransferCounters: Sendable {
    /// Requests sent, every attempt counted.
    let requests = Atomic<Int>(0)
    /// Response body bytes received.
    let bytesReceived = Atomic<Int>(0)

    package init() {}

    /// The totals so far.
    package var statistics: RemoteTransferStatistics {
        RemoteTransferStatistics(requests: requests.load(ordering: .relaxed), bytesReceived: bytesReceived.load(ordering: .relaxed))
    }
}

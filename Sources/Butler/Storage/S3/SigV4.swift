import Crypto
package import Foundation

/// AWS credentials: an access key, its secret, and a session token for temporary ones.
package struct AWSCredentials: Sendable, Hashable {
    package let accessKeyId: String
    package let secretAccessKey: String
    package let sessionToken: String?

    /// Credentials from their parts.
    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// An HTTP request as S3 signs it: method, scheme, host and port, the path as sent
/// (percent-encoded), query parameters (unencoded), headers, and the hex SHA-256 of the body.
package struct S3Request: Sendable {
    package var method: String
    package var scheme: String
    package var host: String
    package var port: Int?
    /// The path as sent, already percent-encoded (``S3Request/encodePath(_:)``).
    package var path: String
    /// Query parameters, unencoded, in the order they are sent.
    package var query: [(String, String)]
    /// Headers as sent (names in any case).
    package var headers: [(String, String)]
    /// Hex SHA-256 of the body (``S3Request/emptyPayloadHash`` for none).
    package var payloadHash: String

    /// The SHA-256 of no bytes.
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The hex SHA-256 of a body, as `x-amz-content-sha256` carries it.
    package static func payloadHash(of body: Data) -> String { hexDigits(SHA256.hash(data: body)) }

    /// Describes a request.
    package init(
        method: String, scheme: String = "https", host: String, port: Int? = nil, path: String, query: [(String, String)] = [],
        headers: [(String, String)] = [], payloadHash: String = S3Request.emptyPayloadHash
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// RFC 3986's unreserved characters: the only bytes S3 leaves unencoded (with "/" in paths).
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    /// Percent-encodes UTF-8 text, leaving the unreserved characters and those in `keep`.
    package static func encode(_ text: String, keeping keep: Set<UInt8> = []) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if unreserved.contains(byte) || keep.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// An object key's path as sent (`/bucket/key` with path-style addressing): every byte but
    /// the unreserved ones and "/" encoded.
    package static func encodePath(_ path: String) -> String { encode(path, keeping: [UInt8(ascii: "/")]) }

    /// The Host header: lowercased, with the port unless it is the scheme's default.
    package var hostHeader: String {
        let name = host.lowercased()
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// The query as sent: encoded pairs joined by "&", in order.
    package var encodedQuery: String { query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&") }
}

/// AWS Signature Version 4 for S3, as botocore signs (its `S3SigV4Auth` and, for presigned
/// URLs, `S3SigV4QueryAuth`): the path is not normalized, the payload hash is sent as
/// `x-amz-content-sha256`. Checked against botocore on generated requests in the test run.
package struct SigV4Signer: Sendable {
    package let credentials: AWSCredentials
    package let region: String
    package let service: String

    /// Headers never signed (botocore's list: hop-by-hop and tracing headers a proxy may change).
    static let unsigned: Set<String> = [
        "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "traceparent", "tracestate",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    /// A signer for `region` (S3's service name by default).
    package init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The `YYYYMMDDTHHMMSSZ` timestamp of `date`.
    package static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }

    /// The headers to send with `request` signed at `date`: X-Amz-Date, X-Amz-Content-SHA256,
    /// X-Amz-Security-Token for temporary credentials, and Authorization (with the request's own
    /// headers, which are signed too).
    package func sign(_ request: S3Request, date: Date) -> [(String, String)] {
        let stamp = Self.timestamp(date)
        var headers = request.headers.filter {
            !["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"].contains($0.0.lowercased())
        }
        headers.append(("X-Amz-Date", stamp))
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        headers.append(("X-Amz-Content-SHA256", request.payloadHash))
        let (canonicalHeaders, signedHeaders) = canonical(headers, host: request.hostHeader)
        let query = request.query.map { (S3Request.encode($0.0), S3Request.encode($0.1)) }
        let canonicalRequest = [
            request.method.uppercased(), request.path, canonicalQuery(query), canonicalHeaders + "\n", signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        let signature = self.signature(canonicalRequest, stamp: stamp)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(stamp)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return headers + [("Authorization", authorization)]
    }

    /// A presigned URL for `request` valid `expires` seconds from `date`: the signature and its
    /// parameters in the query, the payload unsigned.
    package func presign(_ request: S3Request, date: Date, expires: Int) -> String {
        let stamp = Self.timestamp(date)
        let (canonicalHeaders, signedHeaders) = canonical(request.headers, host: request.hostHeader)
        var authParameters = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(stamp))"),
            ("X-Amz-Date", stamp), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken { authParameters.append(("X-Amz-Security-Token", token)) }
        let all = (request.query + authParameters).map { (S3Request.encode($0.0), S3Request.encode($0.1)) }
        let canonicalRequest = [
            request.method.uppercased(), request.path, canonicalQuery(all), canonicalHeaders + "\n", signedHeaders, "UNSIGNED-PAYLOAD",
        ].joined(separator: "\n")
        let signature = self.signature(canonicalRequest, stamp: stamp)
        let queryText = all.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let authority = request.host + (request.port.map { ":\($0)" } ?? "")
        return "\(request.scheme)://\(authority)\(request.path)?\(queryText)&X-Amz-Signature=\(signature)"
    }

    /// `date/region/service/aws4_request`.
    private func scope(_ stamp: String) -> String { "\(stamp.prefix(8))/\(region)/\(service)/aws4_request" }

    /// Canonical headers (lowercased names, sorted, values trimmed with inner runs of spaces
    /// collapsed, repeated names joined by ","; Host added) and the signed header list.
    private func canonical(_ headers: [(String, String)], host: String) -> (String, String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            guard !Self.unsigned.contains(key) else { continue }
            values[key, default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        if values["host"] == nil { values["host"] = [host] }
        let names = values.keys.sorted()
        return (names.map { "\($0):\(values[$0]!.joined(separator: ","))" }.joined(separator: "\n"), names.joined(separator: ";"))
    }

    /// Encoded pairs sorted by key, then value, joined.
    private func canonicalQuery(_ pairs: [(String, String)]) -> String {
        pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The hex signature of a canonical request.
    private func signature(_ canonicalRequest: String, stamp: String) -> String {
        let digest = hexDigits(SHA256.hash(data: Data(canonicalRequest.utf8)))
        let stringToSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope(stamp))\n\(digest)"
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [String(stamp.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return hexDigits(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }
}

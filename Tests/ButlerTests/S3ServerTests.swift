import Foundation
import Testing

@testable import Butler

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Our S3 signatures against a real S3-protocol server that checks them: moto_server, started
/// by the test command (`scripts/s3-server.sh`) with authentication on, so a request it accepts
/// carried a signature it recomputed. Skipped when no server is given
/// (`BUTLER_TEST_S3_ENDPOINT`, `…_ACCESS_KEY`, `…_SECRET_KEY`).
@Suite("S3 requests against moto_server (signatures checked)")
struct S3ServerTests {
    struct Server {
        let endpoint: URL
        let credentials: AWSCredentials
    }

    static let server: Server? = {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["BUTLER_TEST_S3_ENDPOINT"].flatMap(URL.init(string:)),
            let access = environment["BUTLER_TEST_S3_ACCESS_KEY"], let secret = environment["BUTLER_TEST_S3_SECRET_KEY"]
        else { return nil }
        return Server(endpoint: endpoint, credentials: AWSCredentials(accessKeyId: access, secretAccessKey: secret))
    }()

    /// Sends a request signed now; returns status, headers and body.
    static func send(
        _ server: Server, _ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: Data = Data(), secret: String? = nil
    ) async throws -> (Int, [String: String], Data) {
        let credentials = AWSCredentials(
            accessKeyId: server.credentials.accessKeyId, secretAccessKey: secret ?? server.credentials.secretAccessKey)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let payload = S3Request.payloadHash(of: body)
        let request = S3Request(
            method: method, scheme: server.endpoint.scheme!, host: server.endpoint.host!, port: server.endpoint.port,
            path: S3Request.encodePath(path), query: query, headers: headers, payloadHash: payload)
        let signed = signer.sign(request, date: Date())
        let text = "\(server.endpoint.absoluteString)\(request.path)" + (query.isEmpty ? "" : "?" + request.encodedQuery)
        var urlRequest = URLRequest(url: URL(string: text)!)
        urlRequest.httpMethod = method
        for (name, value) in signed { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty { urlRequest.httpBody = body }
        return try await fetch(urlRequest)
    }

    static func fetch(_ request: URLRequest) async throws -> (Int, [String: String], Data) {
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields { headers["\(name)".lowercased()] = "\(value)" }
        return (http.statusCode, headers, data)
    }

    // Presigned URLs are checked against botocore only (SigV4Tests): moto's authentication
    // expects an Authorization header and fails on a presigned request (KeyError, status 500).
    @Test(
        "create a bucket, put, get, ranged get, head, list, delete; a wrong signature is refused",
        .enabled(if: server != nil, "no S3 server given (BUTLER_TEST_S3_ENDPOINT)"))
    func roundTrip() async throws {
        let server = try #require(Self.server)
        let bucket = "butler-test-\(UUID().uuidString.prefix(8).lowercased())"
        let key = "run/calexp/file name ~ 1+2=3 é.fits"
        let payload = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(try await Self.send(server, "PUT", "/\(bucket)").0 == 200)
        let put = try await Self.send(
            server, "PUT", "/\(bucket)/\(key)", headers: [("Content-Type", "application/fits"), ("x-amz-meta-owner", "  butler   test ")],
            body: payload)
        #expect(put.0 == 200, "\(String(decoding: put.2, as: UTF8.self))")
        let get = try await Self.send(server, "GET", "/\(bucket)/\(key)")
        #expect(get.0 == 200 && get.2 == payload)
        let ranged = try await Self.send(server, "GET", "/\(bucket)/\(key)", headers: [("Range", "bytes=100-199")])
        #expect(ranged.0 == 206 && ranged.2 == payload[100..<200])
        let head = try await Self.send(server, "HEAD", "/\(bucket)/\(key)")
        // The inner run of spaces was signed collapsed and sent as is; the server keeps it.
        #expect(
            head.0 == 200 && head.1["content-length"] == "10000"
                && head.1["x-amz-meta-owner"]?.trimmingCharacters(in: .whitespaces) == "butler   test", "\(head.1)")
        let list = try await Self.send(server, "GET", "/\(bucket)", query: [("list-type", "2"), ("prefix", "run/calexp/")])
        #expect(list.0 == 200 && String(decoding: list.2, as: UTF8.self).contains("<Key>run/calexp/file name ~ 1+2=3 é.fits</Key>"))

        // The server checks: a request signed with another secret is refused.
        let forged = try await Self.send(server, "GET", "/\(bucket)/\(key)", secret: "not-the-secret")
        #expect(forged.0 == 403 && String(decoding: forged.2, as: UTF8.self).contains("SignatureDoesNotMatch"))

        #expect(try await Self.send(server, "DELETE", "/\(bucket)/\(key)").0 == 204)
        #expect(try await Self.send(server, "GET", "/\(bucket)/\(key)").0 == 404)
        #expect(try await Self.send(server, "DELETE", "/\(bucket)").0 == 204)
    }
}

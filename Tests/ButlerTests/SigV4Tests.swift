import ButlerTestSupport
import Foundation
import Testing

@testable import Butler

/// AWS Signature Version 4 for S3 against botocore run in the test: 2000 generated requests —
/// keys with reserved, non-ASCII and emoji characters, query parameters, headers with runs of
/// spaces and tabs, unsigned headers (User-Agent, Expect), bodies, session tokens, ports
/// default and not — signed (headers) and presigned (URL) identically.
@Suite("SigV4 against botocore")
struct SigV4Tests {
    struct Case: Decodable {
        let method: String, scheme: String, host: String, port: Int?, path: String
        let query: [[String]], headers: [[String]], body: String, credentials: [String?], region: String, time: Int
        let payloadHash: String, signed: [String: String], presigned: String

        enum CodingKeys: String, CodingKey {
            case method, scheme, host, port, path, query, headers, body, credentials, region, time, signed, presigned
            case payloadHash = "payload_hash"
        }
    }

    @Test("signed headers and presigned URLs equal botocore's")
    func signaturesAgree() throws {
        let output = try ReferencePython.run("s3_signatures.py", ["2000", "20261130"])
        var mismatches: [String] = []
        var count = 0
        for line in output.split(separator: UInt8(ascii: "\n")) {
            let c = try JSONDecoder().decode(Case.self, from: Data(line))
            count += 1
            let request = S3Request(
                method: c.method, scheme: c.scheme, host: c.host, port: c.port, path: c.path, query: c.query.map { ($0[0], $0[1]) },
                headers: c.headers.map { ($0[0], $0[1]) }, payloadHash: c.payloadHash)
            let signer = SigV4Signer(
                credentials: AWSCredentials(
                    accessKeyId: c.credentials[0]!, secretAccessKey: c.credentials[1]!, sessionToken: c.credentials[2]),
                region: c.region)
            let date = Date(timeIntervalSince1970: TimeInterval(c.time))
            let added = Dictionary(signer.sign(request, date: date).map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { $1 })
            for (name, value) in c.signed where added[name.lowercased()] != value {
                mismatches.append("\(c.method) \(c.path): \(name) \(added[name.lowercased()] ?? "missing") against \(value)")
            }
            let url = signer.presign(request, date: date, expires: 3600)
            if url != c.presigned { mismatches.append("presigned \(url) against \(c.presigned)") }
        }
        #expect(count == 2000)
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(3))")
    }

    @Test("AWS's published example: GET of an object with a range")
    func publishedExample() {
        // The worked example of the S3 SigV4 documentation (examplebucket, 2013-05-24).
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let request = S3Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: [("Range", "bytes=0-9")])
        let headers = signer.sign(request, date: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }
}

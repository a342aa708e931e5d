import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// The S3 storage and the artifact cache against the test run's S3-protocol server (moto,
/// signatures checked): multipart uploads, ranges, refusals, unreachable endpoints, a proxy
/// failing one request in ten, and the cache's limits.
@Suite(
    "S3 storage and the artifact cache", .serialized,
    .enabled(if: DatastoreBackend.s3Server != nil, "no S3 server given (BUTLER_TEST_S3_ENDPOINT)"))
struct S3StorageTests {
    static func settings(endpoint: String? = nil, prefix: String) throws -> S3Settings {
        let server = DatastoreBackend.s3Server!
        var settings = try S3Settings(
            bucket: DatastoreBackend.s3Bucket!, prefix: prefix, endpoint: URL(string: endpoint ?? server.endpoint), region: "us-east-1",
            credentials: server.credentials)
        settings.multipartThreshold = 5 << 20
        return settings
    }

    static func storage(endpoint: String? = nil, prefix: String, cache: URL) throws -> S3Storage {
        var limits = ArtifactCache.Limits()
        limits.evictionGrace = 0
        return try S3Storage(settings: settings(endpoint: endpoint, prefix: prefix), cache: ArtifactCache(directory: cache, limits: limits))
    }

    static func bytes(_ count: Int, seed: UInt8 = 1) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ $0 >> 11) })
    }

    /// Stages `data` and publishes it at `path`.
    static func write(_ storage: S3Storage, _ path: String, _ data: Data, replacing: Bool = false) throws -> Bool {
        let staged = try storage.stage(path)
        try data.write(to: URL(fileURLWithPath: staged.localFile))
        _ = try storage.seal(staged)
        defer { storage.finish(staged) }
        return try storage.publish(staged, replacing: replacing)
    }

    @Test("a multipart upload in parallel parts reads back whole and by ranges across parts; no directory objects")
    func multipart() throws {
        let directory = try TemporaryDirectory()
        let storage = try Self.storage(prefix: "multipart-\(UUID().uuidString.prefix(8))", cache: directory.url)
        let data = Self.bytes((12 << 20) + 17)
        #expect(try Self.write(storage, "a/b/big.fits", data))
        #expect(try Self.write(storage, "a/b/big.fits", data) == false, "an existing name is not replaced unless asked")
        #expect(try storage.size(of: "a/b/big.fits") == Int64(data.count))
        #expect(try storage.read("a/b/big.fits") == data)
        let across = Int64(5 << 20) - 100..<Int64(5 << 20) + 100
        #expect(try storage.read("a/b/big.fits", range: across) == data[Int(across.lowerBound)..<Int(across.upperBound)])
        let listed = try storage.list(under: "")
        #expect(listed.map(\.path) == ["a/b/big.fits"] && listed[0].size == Int64(data.count))
        let refused = #expect(throws: ButlerError.self) {
            try storage.read("a/b/big.fits", range: Int64(data.count) + 10..<Int64(data.count) + 20)
        }
        #expect(refused?.code == .invalidParameter && "\(refused!)".contains("416"))
        try storage.delete("a/b/big.fits")
        #expect(try storage.size(of: "a/b/big.fits") == nil)
        #expect(try storage.list(under: "").isEmpty)
    }

    @Test("an unreachable endpoint fails within its retry budget, retryable, naming the URL")
    func unreachable() throws {
        let directory = try TemporaryDirectory()
        var settings = try Self.settings(endpoint: "http://127.0.0.1:9", prefix: "x")
        settings.retry = RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 0.2, budget: 2)
        let storage = try S3Storage(settings: settings, cache: ArtifactCache(directory: directory.url, limits: .init()))
        let start = Date()
        let error = #expect(throws: ButlerError.self) { _ = try storage.size(of: "some/file.fits") }
        // One attempt costs the connect timeout (5 s: async-http-client retries a refused
        // connection until then), and the 2 s budget allows no second.
        #expect(Date().timeIntervalSince(start) < 12)
        #expect(error?.code == .storageFailure && error?.isRetryable == true)
        #expect("\(error!)".contains("http://127.0.0.1:9/") && "\(error!)".contains("some/file.fits"), "\(error!)")
    }

    @Test("a server failing one request in ten (503 SlowDown, resets, cut bodies): 1,200 operations, none fails")
    func faultInjection() throws {
        let server = DatastoreBackend.s3Server!
        let proxy = try FaultProxy(upstream: server.endpoint, rate: 0.1)
        defer { proxy.stop() }
        let directory = try TemporaryDirectory()
        var settings = try Self.settings(endpoint: proxy.endpoint, prefix: "faults-\(UUID().uuidString.prefix(8))")
        settings.retry = RetryPolicy(maxAttempts: 12, baseDelay: 0.005, maxDelay: 0.05, budget: 60)
        let storage = try S3Storage(settings: settings, cache: ArtifactCache(directory: directory.url, limits: .init()))
        var operations = 0
        var expected: [String: Data] = [:]
        for index in 0..<200 {
            let path = "run/\(index % 7)/file\(index).bin"
            let data = Self.bytes(1000 + index * 37, seed: UInt8(index % 251))
            #expect(try Self.write(storage, path, data))  // head + put
            expected[path] = data
            #expect(try storage.read(path) == data)
            #expect(try storage.read(path, range: 10..<90) == data[10..<90])
            #expect(try storage.size(of: path) == Int64(data.count))
            operations += 5
        }
        // A multipart upload through the same faults.
        let big = Self.bytes((11 << 20) + 5)
        #expect(try Self.write(storage, "run/big.bin", big))
        #expect(try storage.read("run/big.bin") == big)
        operations += 6
        expected["run/big.bin"] = big
        #expect(Set(try storage.list(under: "run").map(\.path)) == Set(expected.keys))
        operations += 1
        for path in expected.keys.sorted() {
            try storage.delete(path)
            operations += 1
        }
        #expect(try storage.list(under: "").isEmpty)
        operations += 1
        #expect(operations >= 1200)
        let counts = proxy.stop()
        #expect(counts.contains("'slowdown'") && counts.contains("'reset'"), "\(counts)")
    }

    @Test("a Butler on S3 behind the faulty proxy: 150 puts, gets and a removal, all right, and verify finds everything in its place")
    func butlerThroughFaults() async throws {
        let server = DatastoreBackend.s3Server!
        let proxy = try FaultProxy(upstream: server.endpoint, rate: 0.1)
        defer { proxy.stop() }
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: .sqlite) { config in
            DatastoreBackend.s3.configure(&config, directory.url)
            config.datastore.s3?.endpoint = proxy.endpoint
            config.datastore.s3?.retryBudget = 60
            config.datastore.s3?.maxAttempts = 12
        }
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler, visits: 50, detectors: 3)
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for index in 0..<150 {
            let dataId: DataId = ["instrument": "HSC", "visit": .int(Int64(index / 3 + 1)), "detector": .int(Int64(index % 3))]
            refs.append(try await butler.put(["index": JSONValue.int(Int64(index))], "metrics", dataId: dataId))
        }
        for (index, ref) in refs.enumerated() {
            #expect(try await butler.get(ref, as: [String: Int].self) == ["index": index])
        }
        try await butler.pruneDatasets(Array(refs.prefix(50)), purge: true)
        let report = try await butler.verify()
        #expect(report.isClean && report.checked == 100, "\(report)")
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"]).count == 100)
        try await butler.close()
        let counts = proxy.stop()
        #expect(counts.contains("'slowdown'"), "\(counts)")
    }

    @Test("the cache keeps the least recently used within its limits, refuses a corrupt download, and keeps totals without scanning")
    func cacheLimits() throws {
        let directory = try TemporaryDirectory()
        let prefix = "cache-\(UUID().uuidString.prefix(8))"
        var limits = ArtifactCache.Limits()
        limits.maxFiles = 3
        limits.evictionGrace = 0
        let cache = try ArtifactCache(directory: directory.url, limits: limits)
        let storage = try S3Storage(settings: Self.settings(prefix: prefix), cache: cache)
        var records: [StoredFileInfo] = []
        for index in 0..<4 {
            let data = Self.bytes(2000 + index, seed: UInt8(index))
            let path = "f\(index).bin"
            #expect(try Self.write(storage, path, data))
            let file = directory.url.appendingPathComponent("staged-\(index)")
            try data.write(to: file)
            records.append(
                StoredFileInfo(
                    datasetId: UUID(), component: "", path: path, formatter: "BytesFormatter", storageClass: "Bytes",
                    fileSize: Int64(data.count), checksum: try ChecksumAlgorithm.crc32c.checksum(ofFileAt: file.path)))
        }
        func fetch(_ index: Int) throws -> (String, Bool) {
            var admitted = false
            let path = try #require(try storage.localFile(for: records[index], admit: { _ in admitted = true }))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Self.bytes(2000 + index, seed: UInt8(index)))
            return (path, admitted)
        }
        let first = try fetch(0)
        #expect(first.1, "a download is admitted")
        #expect(try fetch(0).1 == false, "a hit is not downloaded again")
        Thread.sleep(forTimeInterval: 1.1)  // past the touch interval: uses are recorded to the second
        _ = try fetch(1)
        _ = try fetch(2)
        Thread.sleep(forTimeInterval: 1.1)
        _ = try fetch(0)  // 0 is now more recent than 1 and 2
        _ = try fetch(3)  // over the limit: 1 goes
        #expect(try cache.totals().files == 3)
        let objects = try FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("objects").path)
        #expect(objects.count == 3)
        #expect(try fetch(1).1, "the evicted entry is downloaded again")

        // A corrupt download never enters the cache.
        let bad = StoredFileInfo(
            datasetId: UUID(), component: "", path: "f3.bin", formatter: "BytesFormatter", storageClass: "Bytes", fileSize: 2003,
            checksum: "crc32c:00000000")
        let before = try cache.totals()
        #expect(throws: ButlerError.self) {
            _ = try storage.localFile(for: bad) { _ in throw ButlerError(.corruptArtifact, "checksum mismatch") }
        }
        #expect(try cache.totals() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("credentials from a shared credentials file's profile; DAF_BUTLER_CACHE_* override the configuration")
    func settingsResolution() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("credentials")
        try
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n\n[profile other]\naws_access_key_id = C\naws_secret_access_key = D\naws_session_token = T\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let environment = ["AWS_SHARED_CREDENTIALS_FILE": file.path, "S3_ENDPOINT_URL": "http://127.0.0.1:9000"]
        let plain = try S3Settings.resolve(root: "s3://bucket/a//b/", options: nil, environment: environment)
        #expect(plain.credentials == AWSCredentials(accessKeyId: "A", secretAccessKey: "B"))
        #expect(
            plain.bucket == "bucket" && plain.prefix == "a/b" && plain.pathStyle && plain.port == 9000
                && plain.location == "s3://bucket/a/b")
        let other = try S3Settings.resolve(
            root: "s3://bucket", options: .init(profile: "other"),
            environment: environment.merging(["AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "F"]) { $1 })
        #expect(other.credentials == AWSCredentials(accessKeyId: "C", secretAccessKey: "D", sessionToken: "T"))
        let fromEnvironment = try S3Settings.resolve(
            root: "s3://bucket", options: nil,
            environment: environment.merging(["AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "F"]) { $1 })
        #expect(fromEnvironment.credentials.accessKeyId == "E")
        let aws = try S3Settings.resolve(
            root: "s3://bucket", options: .init(region: "eu-west-2"), environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path])
        #expect(aws.host == "s3.eu-west-2.amazonaws.com" && !aws.pathStyle)
        #expect(throws: ButlerError.self) { try S3Settings.resolve(root: "s3://", options: nil, environment: environment) }
        let missing = #expect(throws: ButlerError.self) {
            try S3Settings.resolve(root: "s3://bucket", options: .init(profile: "absent"), environment: environment)
        }
        #expect("\(missing!)".contains("absent") && "\(missing!)".contains(file.path))

        let cacheDirectory = directory.url.appendingPathComponent("override").path
        let cache = try ArtifactCache.configured(
            .init(directory: directory.url.appendingPathComponent("configured").path, maxFiles: 10),
            environment: ["DAF_BUTLER_CACHE_DIRECTORY": cacheDirectory, "DAF_BUTLER_CACHE_EXPIRATION_MODE": "datasets=4"])
        #expect(cache.directory.path == cacheDirectory && cache.limits.maxDatasets == 4 && cache.limits.maxFiles == 10)
        #expect(throws: ButlerError.self) {
            try ArtifactCache.configured(nil, environment: ["DAF_BUTLER_CACHE_EXPIRATION_MODE": "sometimes"])
        }
    }
}

/// The fault-injecting proxy (`Tests/Interop/fault_proxy.py`) in front of the S3 server.
final class FaultProxy: @unchecked Sendable {
    let process = Process()
    let endpoint: String
    private let errors = Pipe()
    /// Closed to stop the proxy (signals may be blocked in a test runner's children).
    private let input = Pipe()
    private var stopped: String?

    init(upstream: String, rate: Double) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/fault_proxy.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, upstream, String(rate), "7"]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = errors
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            throw ButlerError(.storageFailure, "the fault proxy did not start")
        }
        endpoint = "http://127.0.0.1:\(port)"
    }

    /// Stops the proxy; returns its counts of forwarded requests and injected faults.
    @discardableResult
    func stop() -> String {
        if let stopped { return stopped }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        stopped = text
        return text
    }
}

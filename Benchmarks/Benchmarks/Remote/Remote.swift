// Remote storage: small JSON datasets put and got through a repository whose datastore is an
// S3 bucket (moto_server, started by run.sh) or a web server (nginx, started by run.sh), next to
// the bare client's limit measured in the same run — the same bytes PUT or GET by
// async-http-client with nothing else (no signature, no registry, no cache) — and a get served
// from the local cache (goal ≤ 1 ms p50). Skipped when run.sh gave no servers.
import AsyncHTTPClient
import Benchmark
import Butler
import Composites
import Foundation
import NIOCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 5,
        maxDuration: .seconds(3),
        // Each cold get reads a dataset not read before: at most the 1000 put beforehand.
        maxIterations: 900)
    guard RemoteFixture.s3Endpoint != nil, RemoteFixture.httpEndpoint != nil else { return }
    Benchmark.teardown = { RemoteFixture.shared.remove() }
    let setup: Benchmark.BenchmarkSetupHook = { try await RemoteFixture.shared.prepare() }

    Benchmark("S3 small put: butler put (JSON)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            fixture.putCounter += 1
            let index = fixture.putCounter % 1000
            blackHole(
                try await fixture.s3.put(
                    fixture.payload, "metrics", dataId: fixture.dataId(index / 10, index % 10), run: "put/\(fixture.putCounter / 1000)"))
        }
    }
    Benchmark("S3 small put limit: bare PUT (async-http-client)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            fixture.putCounter += 1
            try await fixture.bare(
                "PUT", "\(RemoteFixture.s3Endpoint!)/\(fixture.bucket)/bare/\(fixture.putCounter).json", body: fixture.payloadBytes)
        }
    }
    Benchmark("S3 small get (not cached): butler get by data ID", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            let index = fixture.nextCold()
            blackHole(try await fixture.s3.get("metrics", dataId: fixture.dataId(index / 10, index % 10), collections: ["data"]))
        }
    }
    Benchmark("S3 small get limit: bare GET (async-http-client)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            try await fixture.bare("GET", fixture.s3URLs[fixture.nextCold() % fixture.s3URLs.count])
        }
    }
    Benchmark("HTTP small get (not cached): butler get by data ID", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            let index = fixture.nextCold()
            blackHole(try await fixture.http.get("metrics", dataId: fixture.dataId(index / 10, index % 10), collections: ["data"]))
        }
    }
    Benchmark("HTTP small get limit: bare GET (async-http-client)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            try await fixture.bare("GET", fixture.httpURLs[fixture.nextCold() % fixture.httpURLs.count])
        }
    }
    Benchmark("cache hit: butler get by data ID (S3, cached)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        _ = try await fixture.s3.get("metrics", dataId: fixture.dataId(1, 1), collections: ["data"])
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.s3.get("metrics", dataId: fixture.dataId(1, 1), collections: ["data"]))
        }
    }
    Benchmark("local get: butler get by data ID (POSIX)", configuration: .init(setup: setup)) { benchmark in
        let fixture = RemoteFixture.shared
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.local.get("metrics", dataId: fixture.dataId(1, 1), collections: ["data"]))
        }
    }
}

final class RemoteFixture: @unchecked Sendable {
    // The runner calls setup and the measured closures one at a time.
    static let shared = RemoteFixture()
    static let s3Endpoint = ProcessInfo.processInfo.environment["BUTLER_BENCH_S3_ENDPOINT"]
    static let httpEndpoint = ProcessInfo.processInfo.environment["BUTLER_BENCH_HTTP_ENDPOINT"]
    static let httpRoot = ProcessInfo.processInfo.environment["BUTLER_BENCH_HTTP_ROOT"]

    var s3: Butler!
    var http: Butler!
    var local: Butler!
    var putCounter = 0
    var coldCounter = 0
    var s3URLs: [String] = []
    var httpURLs: [String] = []
    let bucket = "bench-\(UUID().uuidString.prefix(8).lowercased())"
    /// The metrics every dataset holds, and the same JSON as bytes for the bare requests.
    let payload: [String: JSONValue] = ["background": 1000.5, "noise": 31.6, "nSaturated": 3.0, "psfFwhm": 0.71]
    let payloadBytes = Data(#"{"background":1000.5,"noise":31.6,"nSaturated":3.0,"psfFwhm":0.71}"#.utf8)
    private var directory: URL?

    func dataId(_ visit: Int, _ detector: Int) -> DataId {
        ["instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
    }

    func nextCold() -> Int {
        coldCounter += 1
        return coldCounter % 1000
    }

    /// One request with nothing but the client: the transport's floor.
    func bare(_ method: String, _ url: String, body: Data? = nil) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .RAW(value: method)
        // Readable by the unsigned GETs of the limit rows.
        if method == "PUT" { request.headers.add(name: "x-amz-acl", value: "public-read") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        guard (200..<300).contains(response.status.code) else { throw BenchmarkFailure("\(method) \(url): \(response.status)") }
        blackHole(try await response.body.collect(upTo: 1 << 20))
    }

    /// Three repositories with the same 1000 datasets: on S3, on POSIX under the web server's
    /// root, and one reading those POSIX artifacts over HTTP; each with a cache of its own.
    func prepare() async throws {
        guard s3 == nil else { return }
        let directory = URL(fileURLWithPath: Self.httpRoot!).appendingPathComponent("bench-\(UUID().uuidString)")
        self.directory = directory
        try await bare("PUT", "\(Self.s3Endpoint!)/\(bucket)")
        var s3Config = RepositoryConfig.defaultConfig()
        s3Config.datastore.root = "s3://\(bucket)/repo"
        s3Config.datastore.s3 = .init(endpoint: Self.s3Endpoint!)
        s3Config.datastore.cache = .init(directory: directory.appendingPathComponent("s3-cache").path)
        try await Butler.createRepository(at: directory.appendingPathComponent("s3"), config: s3Config)
        s3 = try await Butler(repository: directory.appendingPathComponent("s3"))
        try await Butler.createRepository(at: directory.appendingPathComponent("local"))
        local = try await Butler(repository: directory.appendingPathComponent("local"))
        for (butler, isS3) in [(s3!, true), (local!, false)] {
            try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
            try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
            try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
            try await butler.insertDimensionRecords("detector", (0..<10).map { ["instrument": "Cam", "id": .int(Int64($0))] })
            try await butler.insertDimensionRecords(
                "visit", (0..<100).map { ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122] })
            try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
            var batch: [DatasetToPut] = []
            for index in 0..<1000 { batch.append(DatasetToPut(payload, "metrics", dataId: dataId(index / 10, index % 10))) }
            let refs = try await butler.put(contentsOf: batch, run: "data")
            let urls = try await refs.asyncMap { try await butler.artifactURLs($0)[0] }
            if isS3 {
                // The same keys written again by the bare client: an unsigned request may read
                // only what an unsigned one wrote.
                s3URLs = urls.map { "\(Self.s3Endpoint!)/\(bucket)/bare-" + $0.absoluteString.dropFirst("s3://\(bucket)/".count) }
                for url in s3URLs { try await bare("PUT", url, body: payloadBytes) }
            } else {
                let root = directory.appendingPathComponent("local").path
                httpURLs = urls.map { "\(Self.httpEndpoint!)/\(directory.lastPathComponent)/local" + $0.path.dropFirst(root.count) }
            }
        }
        var httpConfig = try RepositoryConfig.load(root: directory.appendingPathComponent("local"))
        httpConfig.registry.db = "sqlite:///" + directory.appendingPathComponent("local/gen3.sqlite3").path
        httpConfig.datastore.root = "\(Self.httpEndpoint!)/\(directory.lastPathComponent)/local"
        httpConfig.datastore.cache = .init(directory: directory.appendingPathComponent("http-cache").path)
        let httpRepo = directory.appendingPathComponent("http")
        try FileManager.default.createDirectory(at: httpRepo, withIntermediateDirectories: true)
        try httpConfig.write(root: httpRepo)
        http = try await Butler(repository: httpRepo, writeable: false)
    }

    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}

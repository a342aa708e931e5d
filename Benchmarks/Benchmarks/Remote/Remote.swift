// Remote storage: small JSON datasets put and got through a repository whose datastore is an
// S3 bucket (moto_server, started by run.sh) or a web server (nginx, started by run.sh), next to
// the bare client's limit measured in the same run — the same bytes PUT or GET by
// async-http-client with nothing else (no signature, no registry, no cache) — and a get served
// from the local cache (goal ≤ 1 ms p50). Skipped when run.sh gave no servers.
import AsyncHTTPClient
import Benchmark
import Butler
import Composites
import Formatters
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

    // Ranged reads (point 6): a cutout of a 4096² exposure whose artifact is on S3 or behind
    // nginx fetches only the byte ranges of its headers and tiles/chunks, never the 100+ MB
    // file; the limit is the bare client fetching the same ranges, in parallel, in the same
    // run. Bytes and requests of one read go to ranged-reads.json for report.py.
    let cutoutSetup: Benchmark.BenchmarkSetupHook = { try await CutoutFixture.shared.prepare() }
    for remote in CutoutFixture.Remote.allCases {
        for format in CutoutFixture.Format.allCases {
            for box in CutoutFixture.Box.allCases {
                let label = "\(remote.rawValue) cutout \(box.rawValue) (\(format.rawValue))"
                Benchmark("\(label): butler get", configuration: .init(maxIterations: 200, setup: cutoutSetup)) { benchmark in
                    let fixture = CutoutFixture.shared
                    let butler = fixture.butler(remote)
                    for _ in benchmark.scaledIterations { blackHole(try await fixture.cutout(butler, format, box)) }
                    try await fixture.record(label, remote, format, box)
                }
                Benchmark("\(label) limit: bare ranged GETs", configuration: .init(maxIterations: 200, setup: cutoutSetup)) { benchmark in
                    let fixture = CutoutFixture.shared
                    for _ in benchmark.scaledIterations { try await fixture.bareRanges(remote, format, box) }
                }
            }
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

    /// The root of one of the fixture's repositories (`s3`, `local`, `http`).
    func repositoryRoot(_ name: String) -> URL { directory!.appendingPathComponent(name) }

    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        CutoutFixture.shared.remove()
    }
}

/// A 4096² exposure stored as gzip-tiled FITS (256² tiles) and chunked HDF5 (256² chunks), and
/// its image plane as tiled FITS, in the S3 repository and in the POSIX one nginx serves, read
/// back by box; the same files written by the bare client for the limit rows, whose ranges
/// come from their layouts.
final class CutoutFixture: @unchecked Sendable {
    // The runner calls setup and the measured closures one at a time.
    static let shared = CutoutFixture()

    enum Remote: String, CaseIterable {
        case s3 = "S3"
        case http = "HTTP"
    }

    enum Format: String, CaseIterable {
        case fits = "FITS gzip tiles 256²"
        case hdf5 = "HDF5 chunks 256²"
        /// One image plane (the issue's "tiled FITS"): an exposure is three planes, and on S3
        /// every plane's tiles are a request of their own.
        case image = "FITS image gzip tiles 256²"

        var datasetType: String {
            switch self {
            case .fits: "calexpTiled"
            case .hdf5: "calexpChunked"
            case .image: "imageTiled"
            }
        }
        var storageClass: String { self == .image ? "ImageF" : "ExposureF" }
        var choice: RepositoryConfig.FormatterChoice {
            switch self {
            case .fits: .init(formatter: "FitsExposureFormatter", parameters: ["compression": "gzip", "tile": [256, 256]])
            case .hdf5: .init(formatter: "HDF5ExposureFormatter", parameters: ["chunk": [256, 256]])
            case .image: .init(formatter: "FitsImageFormatter", parameters: ["compression": "gzip", "tile": [256, 256]])
            }
        }
        var fileName: String {
            switch self {
            case .fits: "tiled.fits"
            case .hdf5: "chunked.h5"
            case .image: "image.fits"
            }
        }
    }

    /// Which copy of the dataset a read gets: the timed one (its headers cached after the
    /// first iteration), one read once with its layout recorded and nothing cached (`first`),
    /// one written with no layout recorded (`cold`, as in a repository older than layouts).
    enum Copy: Int, CaseIterable {
        case timed = 1
        case first = 2
        case cold = 4

        func detector(_ box: Box) -> Int { self == .timed ? rawValue : rawValue + (box == .cutout ? 0 : 1) }
    }

    enum Box: String, CaseIterable {
        case cutout = "256²"
        case stamp = "51×51"

        /// Boxes not aligned with tiles: the common case, two rows and columns of tiles.
        var box: Box2I {
            self == .cutout
                ? Box2I(min: Point2I(1500, 2100), extent: Extent2I(256, 256)) : Box2I(min: Point2I(3000, 1000), extent: Extent2I(51, 51))
        }
    }

    private var s3: Butler!
    private var http: Butler!
    private var directory: URL!
    private var bareRanges: [String: (url: String, ranges: [Range<Int64>], touched: Int64, size: Int64)] = [:]
    private var recorded: Set<String> = []

    func butler(_ remote: Remote) -> Butler { remote == .s3 ? s3 : http }

    func cutout(_ butler: Butler, _ format: Format, _ box: Box, copy: Copy = .timed) async throws -> any Sendable {
        let dataId: DataId = ["instrument": "Cam", "visit": 1, "detector": .int(Int64(copy.detector(box)))]
        let parameters: ReadParameters = ["bbox": ImageParameters.value(box.box)]
        if format == .image {
            return try await butler.get(
                format.datasetType, dataId: dataId, collections: ["cutouts"], parameters: parameters, as: Image<Float>.self)
        }
        return try await butler.get(
            format.datasetType, dataId: dataId, collections: ["cutouts"], parameters: parameters, as: ExposureF.self)
    }

    /// The bare client fetching a read's ranges, all at once.
    func bareRanges(_ remote: Remote, _ format: Format, _ box: Box) async throws {
        let plan = bareRanges["\(remote.rawValue) \(format.rawValue) \(box.rawValue)"]!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for range in plan.ranges {
                group.addTask {
                    var request = HTTPClientRequest(url: plan.url)
                    request.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    guard response.status.code == 206 else { throw BenchmarkFailure("GET \(plan.url) \(range): \(response.status)") }
                    blackHole(try await response.body.collect(upTo: 1 << 28))
                }
            }
            try await group.waitForAll()
        }
    }

    /// Reads counted (requests, bytes fetched) against the bytes a read touches (its tiles or
    /// chunks and the file's headers, tables and attributes), written for report.py: one more
    /// of the timed copy (headers cached), the first read of a copy with a layout, the first
    /// of a copy without.
    func record(_ label: String, _ remote: Remote, _ format: Format, _ box: Box) async throws {
        // The runner calls the measured closure more than once: the first and cold copies are
        // first reads only the first time.
        guard recorded.insert(label).inserted else { return }
        let butler = butler(remote)
        let plan = bareRanges["\(remote.rawValue) \(format.rawValue) \(box.rawValue)"]!
        var counted: [String: Int64] = ["touched": plan.touched, "fileSize": plan.size, "bareRequests": Int64(plan.ranges.count)]
        for (copy, prefix) in [(Copy.timed, ""), (.first, "first"), (.cold, "cold")] {
            let before = butler.remoteTransferStatistics
            blackHole(try await cutout(butler, format, box, copy: copy))
            let after = butler.remoteTransferStatistics
            counted[prefix.isEmpty ? "requests" : prefix + "Requests"] = Int64(after.requests - before.requests)
            counted[prefix.isEmpty ? "bytes" : prefix + "Bytes"] = Int64(after.bytesReceived - before.bytesReceived)
        }
        guard let output = ProcessInfo.processInfo.environment["BUTLER_BENCH_RESULTS"] else { return }
        let file = URL(fileURLWithPath: output).appendingPathComponent("ranged-reads.json")
        var all = (try? JSONDecoder().decode([String: [String: Int64]].self, from: Data(contentsOf: file))) ?? [:]
        all[label] = counted
        try JSONEncoder().encode(all).write(to: file)
    }

    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func prepare() async throws {
        guard s3 == nil else { return }
        try await RemoteFixture.shared.prepare()
        let remote = RemoteFixture.shared
        directory = URL(fileURLWithPath: RemoteFixture.httpRoot!).appendingPathComponent("cutouts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let exposure = Self.exposure(size: 4096)
        for butler in [remote.s3!, remote.local!] {
            for format in Format.allCases {
                try await butler.registerDatasetType(
                    format.datasetType, dimensions: ["visit", "detector"], storageClass: format.storageClass)
            }
        }
        // Formatter parameters come from each repository's configuration: written there; the
        // cold copies by repositories told to record no layout.
        for recordLayouts in [true, false] {
            for name in ["s3", "local"] {
                let root = remote.repositoryRoot(name)
                var config = try RepositoryConfig.load(root: root)
                for format in Format.allCases { config.datastore.formatters[format.datasetType] = format.choice }
                config.datastore.recordLayouts = recordLayouts ? nil : false
                try config.write(root: root)
            }
            let s3Writer = try await Butler(repository: remote.repositoryRoot("s3"), run: "cutouts")
            let localWriter = try await Butler(repository: remote.repositoryRoot("local"), run: "cutouts")
            let copies = recordLayouts ? [Copy.timed, .first] : [.cold]
            let detectors = Set(copies.flatMap { copy in Box.allCases.map { copy.detector($0) } })
            for format in Format.allCases {
                let value: any Sendable = format == .image ? exposure.image : exposure
                for detector in detectors.sorted() {
                    let dataId: DataId = ["instrument": "Cam", "visit": 1, "detector": .int(Int64(detector))]
                    try await s3Writer.put(value, format.datasetType, dataId: dataId)
                    try await localWriter.put(value, format.datasetType, dataId: dataId)
                }
            }
            try await s3Writer.close()
            try await localWriter.close()
        }
        s3 = try await Butler(repository: remote.repositoryRoot("s3"), writeable: false)
        http = try await Butler(repository: remote.repositoryRoot("http"), writeable: false)
        // The bare copies: the same formats written locally, served by nginx and put on S3.
        for format in Format.allCases {
            let path = directory.appendingPathComponent(format.fileName).path
            switch format {
            case .fits: try ExposureFITS.write(exposure, to: path, compression: FITSCompression(.gzip, tile: Extent2I(256, 256)))
            case .hdf5: try ExposureHDF5.write(exposure, to: path, layout: HDF5Layout(chunk: Extent2I(256, 256)))
            case .image:
                try FitsImageFormatter(compression: FITSCompression(.gzip, tile: Extent2I(256, 256))).write(
                    exposure.image, storageClass: try StorageClassRegistry().storageClass(named: "ImageF"),
                    to: URL(fileURLWithPath: path))
            }
            let layout = format == .hdf5 ? try ExposureHDF5.byteLayout(of: path) : try ByteLayout.fits(at: path)
            let s3URL = "\(RemoteFixture.s3Endpoint!)/\(remote.bucket)/bare-cutouts/\(format.fileName)"
            try await remote.bare("PUT", s3URL, body: try Data(contentsOf: URL(fileURLWithPath: path)))
            let httpURL = "\(RemoteFixture.httpEndpoint!)/\(directory.lastPathComponent)/\(format.fileName)"
            for box in Box.allCases {
                let touched = layout.ranges(for: .box(box.box, .parent))!
                // As the datastore plans them: neighbours within 64 KiB fetched as one.
                let ranges = ByteLayout.coalesce(touched, gap: 64 << 10)
                let total = touched.reduce(Int64(0)) { $0 + Int64($1.count) }
                for (remoteCase, url) in [(Remote.s3, s3URL), (Remote.http, httpURL)] {
                    bareRanges["\(remoteCase.rawValue) \(format.rawValue) \(box.rawValue)"] = (url, ranges, total, layout.fileSize)
                }
            }
        }
    }

    /// Pixels that compress as sky images do (noise on a smooth background), not to nothing.
    static func exposure(size: Int) -> Exposure<Float> {
        var masked = MaskedImage<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(size, size)))
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for index in masked.image.pixels.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            masked.image.pixels[index] = 1000 + Float(index % size) * 0.01 + Float(state & 0xFF) * 0.1
            masked.variance.pixels[index] = 1000
            masked.mask.image.pixels[index] = state & 0xF00 == 0 ? 1 : 0
        }
        return Exposure(maskedImage: masked, wcs: nil, psf: .gaussian(sigma: 1.5, width: 11, height: 11))
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

import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@testable import Butler

/// A repository read over HTTP: the artifacts of a repository written on POSIX, served by the
/// test run's nginx (`scripts/http-server.sh`), read through a second configuration whose
/// datastore root is the server's URL and whose registry is the same database.
@Suite("HTTP storage (nginx, read-only)", .enabled(if: HTTPServer.endpoint != nil, "no HTTP server given (BUTLER_TEST_HTTP_ENDPOINT)"))
struct HTTPStorageTests {
    @Test(
        "gets, components, cutouts and verify over HTTP equal the local reads; writes refused; missing and corrupt told apart",
        arguments: Backend.available)
    func readOverHTTP(backend: Backend) async throws {
        let served = try HTTPServer.directory()
        defer { try? FileManager.default.removeItem(at: served) }
        let local = served.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        try await TestRepository.create(in: local, backend: backend) { $0.datastore.disassembled = ["calexpSplit"] }
        let writer = try await Butler(repository: local, run: "run/a")
        try await TestRepository.insertInstrument(writer)
        try await writer.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await writer.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        try await writer.registerDatasetType("calexpSplit", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        let exposure = try DatastoreConformance.calexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let whole = try await writer.put(exposure, "calexp", dataId: dataId)
        let split = try await writer.put(exposure, "calexpSplit", dataId: dataId)
        var metrics: [DatasetRef] = []
        for visit in 1...3 {
            metrics.append(
                try await writer.put(
                    ["seeing": JSONValue.double(Double(visit))], "metrics", dataId: ["instrument": "HSC", "visit": .int(Int64(visit))]))
        }
        let box = Box2I(min: Point2I(8, 9), extent: Extent2I(5, 4))
        let localCutout = try await writer.get(whole, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
        try await writer.close()

        // The reader: the same registry, the datastore root the server's URL.
        let client = try TemporaryDirectory()
        var config = try RepositoryConfig.load(root: local)
        if config.registry.db.hasPrefix("sqlite:///"), !config.registry.db.hasPrefix("sqlite:////") {
            config.registry.db = "sqlite:///" + local.appendingPathComponent(String(config.registry.db.dropFirst(10))).path
        }
        config.datastore.root = HTTPServer.endpoint! + "/" + served.lastPathComponent + "/repo"
        config.datastore.cache = RepositoryConfig.CacheOptions(directory: client.url.appendingPathComponent("cache").path)
        try config.write(root: client.url)
        let reader = try await Butler(repository: client.url, collections: ["run/a"], writeable: false)

        #expect(try await reader.get(whole, as: ExposureF.self) == exposure)
        #expect(try await reader.get(split, as: ExposureF.self) == exposure)
        #expect(try await reader.get(split, component: "wcs", as: Wcs.self) == exposure.wcs)
        let cutout = try await reader.get(whole, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
        #expect(cutout == localCutout && cutout.bbox == box)
        #expect(try await reader.get(metrics[0], as: [String: Double].self) == ["seeing": 1])
        let urls = try await reader.artifactURLs(whole)
        #expect(urls.count == 1 && urls[0].absoluteString.hasPrefix(HTTPServer.endpoint! + "/"), "\(urls)")
        #expect(try await reader.exists(whole))
        let report = try await reader.verify()
        #expect(report.isClean && report.checked >= 7, "\(report)")

        // Writes are refused naming the URL (a writeable Butler on the same configuration).
        let writeable = try await Butler(repository: client.url, run: "run/b")
        let refused = await #expect(throws: ButlerError.self) {
            try await writeable.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect(refused?.code == .readOnly && "\(refused!)".contains(HTTPServer.endpoint!), "\(refused!)")
        #expect(try await writeable.queryDatasets(["metrics"], collections: ["run/b"]).isEmpty)
        try await writeable.close()

        // A missing artifact and a changed one (never read before: not cached) are told apart.
        let records1 = try await reader.artifactRecords(metrics[1])
        try FileManager.default.removeItem(at: local.appendingPathComponent(records1[0].path))
        let missing = await #expect(throws: ButlerError.self) { try await reader.get(metrics[1]) }
        #expect(missing?.code == .missingArtifact && "\(missing!)".contains("metrics@"), "\(missing!)")
        let records2 = try await reader.artifactRecords(metrics[2])
        let file = local.appendingPathComponent(records2[0].path)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: file)
        let corrupt = await #expect(throws: ButlerError.self) { try await reader.get(metrics[2]) }
        #expect(corrupt?.code == .corruptArtifact && "\(corrupt!)".contains(records2[0].checksum!), "\(corrupt!)")
        let damaged = try await reader.verify()
        #expect(damaged.missing.count == 1 && damaged.corrupt.count == 1, "\(damaged)")
        try await reader.close()
    }
}

/// The nginx of this test run (`BUTLER_TEST_HTTP_ENDPOINT` serving `BUTLER_TEST_HTTP_ROOT`).
enum HTTPServer {
    static let endpoint = ProcessInfo.processInfo.environment["BUTLER_TEST_HTTP_ENDPOINT"]
    static let root = ProcessInfo.processInfo.environment["BUTLER_TEST_HTTP_ROOT"]

    /// A new directory the server serves.
    static func directory() throws -> URL {
        let url = URL(fileURLWithPath: root!).appendingPathComponent("t-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

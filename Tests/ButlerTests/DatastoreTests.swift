import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A user type stored as YAML.
struct PipelineConfig: Codable, Equatable, Sendable {
    var name: String
    var thresholds: [Double]
    var enabled: Bool
}

/// Lists every regular file under `root` except the registry database and config.
func artifacts(under root: URL) -> [String] {
    (try? DatastoreBackend.posix.list(root)) ?? []
}

@Suite("File datastore on every backend")
struct DatastoreTests {
    func makeButler(
        _ backend: Backend, edit: (inout RepositoryConfig) -> Void = { _ in }
    ) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend, edit: edit)
        let formatters = FormatterRegistry()
        formatters.register(FailingFormatter())
        let butler = try await Butler(repository: directory.url, run: "run/a", formatters: formatters)
        try await TestRepository.insertInstrument(butler)
        return (butler, directory)
    }

    @Test("a formatter failing mid-write leaves no file and no row", arguments: Backend.available)
    func failingFormatter(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend) { config in
            config.datastore.formatters["fragile"] = .init(formatter: FailingFormatter.formatterName)
        }
        try await butler.registerDatasetType("fragile", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let error = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "fragile", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect("\(error!)".contains("disk on fire"))
        #expect("\(error!)".contains("fragile@{instrument: HSC, visit: 1}"))
        #expect(artifacts(under: directory.url).isEmpty)
        #expect(try await butler.queryDatasets(["fragile"], collections: ["run/a"]).isEmpty)
        try await butler.close()
    }

    @Test("a put refused by the registry leaves no file behind", arguments: Backend.available)
    func refusedPut(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let before = artifacts(under: directory.url)
        await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect(artifacts(under: directory.url) == before)
        let stored = try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 1], as: [String: Int].self)
        #expect(stored == ["a": 1])
        try await butler.close()
    }

    @Test("a moved repository keeps working", arguments: [Backend.sqlite])
    func relocation(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let ref = try await butler.put(["a": JSONValue.double(1.5)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        try await butler.close()
        let moved = try TemporaryDirectory()
        let target = moved.url.appendingPathComponent("elsewhere")
        try FileManager.default.moveItem(at: directory.url, to: target)
        let reopened = try await Butler(repository: target, collections: ["run/a"])
        #expect(try await reopened.get(ref, as: [String: Double].self) == ["a": 1.5])
        #expect(try await reopened.artifactURLs(ref)[0].path.hasPrefix(target.path))
        try await reopened.close()
    }

    @Test("a read-only Butler refuses every write and still reads", arguments: Backend.available)
    func readOnly(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        try await butler.close()
        let reader = try await Butler(repository: directory.url, collections: ["run/a"], writeable: false)
        #expect(reader.isReadOnly)
        let refusals: [@Sendable () async throws -> Void] = [
            { _ = try await reader.put(["a": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 2], run: "run/a") },
            { _ = try await reader.registerDatasetType("other", dimensions: ["visit"], storageClass: "Bytes") },
            { _ = try await reader.insertDimensionRecords("band", [["name": "g"]]) },
            { _ = try await reader.registerRun("run/b") },
            { _ = try await reader.removeRuns(["run/a"]) },
            { try await reader.setCollectionChain("chain", children: ["run/a"]) },
        ]
        for refusal in refusals {
            let error = await #expect(throws: ButlerError.self) { try await refusal() }
            #expect("\(error!)".contains("read-only"))
        }
        #expect(try await reader.get("metrics", dataId: ["instrument": "HSC", "visit": 1], as: [String: Int].self) == ["a": 1])
        try await reader.close()
    }

    @Test("data ID values cannot make a path escape the root", arguments: Backend.available)
    func pathSanitising(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.insertDimensionRecords("instrument", [["name": "../../../../tmp/evil"]])
        try await butler.registerDatasetType("metrics", dimensions: ["instrument"], storageClass: "StructuredDataDict")
        let ref = try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "../../../../tmp/evil"])
        let url = try await butler.artifactURLs(ref)[0].standardizedFileURL
        #expect(url.path.hasPrefix(directory.url.standardizedFileURL.path + "/"))
        #expect(!url.path.contains("/../"))
        await #expect(throws: ButlerError.self) { try await butler.registerRun("../outside") }
        #expect(throws: ButlerError.self) { try FileTemplate("{run}/{visit").format([:]) }
        #expect(
            try FileTemplate("{run:/}/{datasetType}/{band:?}/{datasetType}_{visit:08d}_{band:?}")
                .format(["run": "u/me/../x", "datasetType": "calexp", "visit": "42"]) == "u/me/dotdot/x/calexp/calexp_00000042")
        #expect(try FileTemplate("{run}/{x}").format(["run": "a/b", "x": ".."]) == "a_b/dotdot")
        try await butler.close()
    }

    @Test("templates must give unique paths", arguments: [Backend.sqlite])
    func templateValidation(backend: Backend) async throws {
        let (butler, _) = try await makeButler(backend) { config in
            config.datastore.templates["metrics"] = "{run}/{datasetType}"
        }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let error = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect("\(error!)".contains("{instrument}, {visit}"))
        try await butler.close()
    }

    @Test("PNG bytes, YAML and JSON values round-trip; checksums are recorded", arguments: Backend.available)
    func formats(backend: Backend) async throws {
        let (butler, _) = try await makeButler(backend) { config in
            config.datastore.formatters["qaPlot"] = .init(formatter: "BytesFormatter", extension: ".png")
            config.datastore.formatters["pipelineConfig"] = .init(formatter: "YAMLFormatter")
        }
        try await butler.registerDatasetType("qaPlot", dimensions: ["visit"], storageClass: "Bytes")
        try await butler.registerDatasetType("pipelineConfig", dimensions: ["instrument"], storageClass: "StructuredData")
        try await butler.registerDatasetType("visitList", dimensions: ["instrument"], storageClass: "StructuredDataList")
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        png.append(contentsOf: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let plot = try await butler.put(png, "qaPlot", dataId: ["instrument": "HSC", "visit": 1])
        #expect(try await butler.get(plot, as: Data.self) == png)
        #expect(try await butler.get(plot) as? Data == png)
        let records = try await butler.artifactRecords(plot)
        #expect(records[0].path.hasSuffix(".png"))
        #expect(records[0].fileSize == Int64(png.count))
        #expect(records[0].checksum?.hasPrefix("sha256:") == true && records[0].checksum?.count == 71)
        let config = PipelineConfig(name: "isr", thresholds: [1.5, 3], enabled: true)
        let configRef = try await butler.put(config, "pipelineConfig", dataId: ["instrument": "HSC"])
        #expect(try await butler.artifactURLs(configRef)[0].pathExtension == "yaml")
        #expect(try await butler.get(configRef, as: PipelineConfig.self) == config)
        let untyped = try await butler.get(configRef) as? JSONValue
        #expect(untyped?.objectValue?["name"] == "isr")
        let list = try await butler.put([JSONValue.int(1), "two", 3.5], "visitList", dataId: ["instrument": "HSC"])
        #expect(try await butler.get(list) as? [JSONValue] == [1, "two", 3.5])
        let wrongType = await #expect(throws: ButlerError.self) { try await butler.get(configRef, as: Int.self) }
        #expect("\(wrongType!)".contains("pipelineConfig"))
        let badParameter = await #expect(throws: ButlerError.self) { try await butler.get(plot, parameters: ["bbox": 3]) }
        #expect("\(badParameter!)".contains("bbox"))
        try await butler.close()
    }

    @Test("ingest with every transfer mode; removal never deletes files it does not own", arguments: Backend.available)
    func ingest(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        let outside = try TemporaryDirectory()
        var refs: [TransferMode: DatasetRef] = [:]
        for (index, mode) in TransferMode.allCases.enumerated() {
            let file = outside.url.appendingPathComponent("plot\(index).png")
            try Data("png-\(mode.rawValue)".utf8).write(to: file)
            let ref = try await butler.ingest(
                [FileToIngest(url: file, dataId: ["instrument": "HSC", "visit": .int(Int64(index % 3 + 1))])],
                datasetType: "plot", run: "ingest/\(mode.rawValue)", transfer: mode)[0]
            refs[mode] = ref
            #expect(try await butler.get(ref, as: String.self) == "png-\(mode.rawValue)")
            #expect(try await butler.artifactRecords(ref)[0].formatter == "BytesFormatter")
            #expect(FileManager.default.fileExists(atPath: file.path) == (mode != .move))
        }
        let direct = try await butler.artifactURLs(refs[.direct]!)[0]
        #expect(direct.path.hasPrefix(outside.url.path))
        try await butler.pruneDatasets([refs[.direct]!, refs[.copy]!], purge: true)
        #expect(FileManager.default.fileExists(atPath: direct.path))
        let missing = await #expect(throws: ButlerError.self) {
            try await butler.ingest(
                [FileToIngest(url: outside.url.appendingPathComponent("nope.png"), dataId: ["instrument": "HSC", "visit": 1])],
                datasetType: "plot", run: "ingest/x")
        }
        #expect("\(missing!)".contains("nope.png"))
        _ = directory
        try await butler.close()
    }

    @Test("an identical dataset ID cannot be ingested twice and a failed batch ingests nothing", arguments: Backend.available)
    func ingestAtomic(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        let outside = try TemporaryDirectory()
        let files = try (1...2).map { visit -> FileToIngest in
            let file = outside.url.appendingPathComponent("v\(visit).png")
            try Data([UInt8(visit)]).write(to: file)
            return FileToIngest(url: file, dataId: ["instrument": "HSC", "visit": .int(Int64(visit))])
        }
        await #expect(throws: ButlerError.self) {
            try await butler.ingest(files + [files[0]], datasetType: "plot", run: "raw", idGenerationMode: .dataIdTypeRun)
        }
        #expect(artifacts(under: directory.url).isEmpty)
        let refs = try await butler.ingest(files, datasetType: "plot", run: "raw", idGenerationMode: .dataIdTypeRun)
        #expect(refs.count == 2)
        try await butler.close()
    }

    /// A directory on another file system than the repository (tmpfs), when the machine has one.
    static let otherFileSystem: URL? = {
        var shm = stat(), tmp = stat()
        guard stat("/dev/shm", &shm) == 0, stat(FileManager.default.temporaryDirectory.path, &tmp) == 0, shm.st_dev != tmp.st_dev else {
            return nil
        }
        return URL(fileURLWithPath: "/dev/shm")
    }()

    @Test(
        "across file systems a hard link is refused and the source stays; a move copies, and removes the source only once registered",
        .enabled(if: otherFileSystem != nil), arguments: Backend.available)
    func crossDeviceIngest(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        let sources = try #require(Self.otherFileSystem).appendingPathComponent("butler-xdev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sources) }
        let files = try (1...2).map { visit -> FileToIngest in
            let file = sources.appendingPathComponent("v\(visit).png")
            try Data("plot \(visit)".utf8).write(to: file)
            return FileToIngest(url: file, dataId: ["instrument": "HSC", "visit": .int(Int64(visit))])
        }
        let refused = await #expect(throws: ButlerError.self) {
            try await butler.ingest([files[0]], datasetType: "plot", run: "xdev/link", transfer: .hardlink)
        }
        #expect(refused?.code == .storageFailure && "\(refused!)".contains("another file system"), "\(refused!)")
        // A batch that fails (the same data ID twice) moves nothing.
        await #expect(throws: ButlerError.self) {
            try await butler.ingest(files + [files[0]], datasetType: "plot", run: "xdev/move", transfer: .move)
        }
        #expect(files.allSatisfy { FileManager.default.fileExists(atPath: $0.url.path) })
        let moved = try await butler.ingest(files, datasetType: "plot", run: "xdev/move", transfer: .move)
        #expect(files.allSatisfy { !FileManager.default.fileExists(atPath: $0.url.path) })
        #expect(try await butler.get(moved[1], as: String.self) == "plot 2")
        try await butler.close()
    }

    @Test("a FIFO or directory in an ingest is refused at once, in every transfer mode", arguments: [Backend.sqlite])
    func specialFiles(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        let outside = try TemporaryDirectory()
        let fifo = outside.url.appendingPathComponent("pipe.png")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        for mode in TransferMode.allCases {
            let error = await #expect(throws: ButlerError.self) {
                try await butler.ingest(
                    [FileToIngest(url: fifo, dataId: ["instrument": "HSC", "visit": 1])], datasetType: "plot", run: "fifo", transfer: mode)
            }
            #expect("\(error!)".contains("not a regular file"), "\(mode): \(error!)")
        }
        try await butler.close()
    }
}

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
        let (butler, directory) = try await makeButler(backend) { config in
            config.datastore.templates["metrics"] = "{run}/{datasetType}"
        }
        defer { _ = directory }  // keeps the repository until the test ends
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let error = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect("\(error!)".contains("{instrument}, {visit}"))
        try await butler.close()
    }

    @Test("PNG bytes, YAML and JSON values round-trip; checksums are recorded", arguments: Backend.available)
    func formats(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend) { config in
            config.datastore.formatters["qaPlot"] = .init(formatter: "BytesFormatter", extension: ".png")
            config.datastore.formatters["pipelineConfig"] = .init(formatter: "YAMLFormatter")
        }
        defer { _ = directory }  // keeps the repository until the test ends
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
        #expect(records[0].checksum?.hasPrefix("crc32c:") == true && records[0].checksum?.count == 15)
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
        // The device numbers by Foundation: `struct stat` is declared by several C modules in
        // this test's imports (Glibc, CoreFoundation, NIO's), which the compiler will not pick between.
        func device(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.systemNumber] as? Int }
        guard let shm = device("/dev/shm"), let tmp = device(FileManager.default.temporaryDirectory.path), shm != tmp else {
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

    @Test(
        "a put reusing a path that another process is emptying from the trash waits for it and keeps its file",
        .enabled(if: Backend.postgresURL != nil))
    func trashRace() async throws {
        let (butler, directory) = try await makeButler(.postgresql)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let dataId: DataId = ["instrument": "HSC", "visit": 1]
        let first = try await butler.put(["v": JSONValue.int(1)], "metrics", dataId: dataId)
        let path = try await butler.artifactRecords(first)[0].path
        let url = try await butler.artifactURLs(first)[0]
        // The dataset is gone but its path is still in the trash, as after an interrupted removal.
        try await butler.pruneDatasets([first], purge: true)
        try await butler.withDatastore { datastore, session in
            try session.execute(
                "INSERT INTO file_datastore_trash (datastore_name, path, owned) VALUES (?, ?, 1)", [.text(datastore.name), .text(path)])
        }
        // Another process empties the trash: it holds the path while it deletes the file.
        let emptier = try await Butler(repository: directory.url)
        let claimed = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let emptying = Task {
            try await emptier.withDatastore { datastore, session in
                try (datastore as? FileDatastore)?.lockArtifactPath(path, session: session)
                claimed.signal()
                proceed.wait()
                try? FileManager.default.removeItem(at: url)
                try session.execute("DELETE FROM file_datastore_trash WHERE path = ?", [.text(path)])
            }
        }
        await Task.detached { claimed.wait() }.value
        let put = Task { try await butler.put(["v": JSONValue.int(2)], "metrics", dataId: dataId) }
        try await Task.sleep(for: .milliseconds(300))
        proceed.signal()
        try await emptying.value
        let second = try await put.value
        #expect(try await butler.exists(second))
        #expect(try await butler.get(second, as: [String: Int].self) == ["v": 2])
        try await emptier.close()
        try await butler.close()
    }

    @Test(
        "verify finds missing, corrupt and stray files; repair removes only old leftovers; the next write sweeps its directory",
        arguments: Backend.available)
    func verifyAndRepair(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let refs = try await (1...3).asyncMap { visit in
            try await butler.put(["v": JSONValue.int(Int64(visit))], "metrics", dataId: ["instrument": "HSC", "visit": .int(Int64(visit))])
        }
        #expect(try await butler.verify().isClean)
        let urls = try await refs.asyncMap { try await butler.artifactURLs($0)[0] }
        try FileManager.default.removeItem(at: urls[0])
        try Data("{\"v\":9}".utf8).write(to: urls[1])  // same size, other bytes
        let folder = urls[2].deletingLastPathComponent()
        let old = Date().addingTimeInterval(-3600)
        func stray(_ name: String, modified: Date) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try Data("stray".utf8).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
            return url
        }
        let leftover = try stray(".metrics_x.json.tmp-\(UUID().uuidString)", modified: old)
        let orphan = try stray("metrics_orphan.json", modified: old)
        let fresh = try stray("metrics_fresh.json", modified: Date())
        let report = try await butler.verify()
        #expect(report.checked == 3)
        #expect(report.missing.map(\.datasetId) == [refs[0].id])
        #expect(report.corrupt.map(\.datasetId) == [refs[1].id] && report.corrupt[0].reason.contains("checksum"))
        #expect(report.orphans.count == 1 && report.orphans[0].hasSuffix("metrics_orphan.json"))
        #expect(report.leftovers.count == 1 && report.leftovers[0].hasSuffix(leftover.lastPathComponent))
        #expect(!report.isClean)
        let repaired = try await butler.verify(repair: true)
        #expect(Set(repaired.removed) == Set(report.orphans + report.leftovers))
        #expect(!FileManager.default.fileExists(atPath: orphan.path) && !FileManager.default.fileExists(atPath: leftover.path))
        #expect(FileManager.default.fileExists(atPath: fresh.path), "a file younger than ten minutes may be a write in progress")
        #expect(!repaired.isClean, "missing and corrupt artifacts are reported, not repaired")
        // A write into a directory (visit 5 shares visit 3's band and day) sweeps the staging
        // leftovers it finds there; the first Butler already swept it, so a new one writes.
        let second = try stray(".metrics_y.json.tmp-\(UUID().uuidString)", modified: old)
        try await butler.insertDimensionRecords(
            "visit",
            [
                ["instrument": "HSC", "id": 5, "name": "v5", "physical_filter": "HSC-I", "day_obs": 20131102]
            ])
        let writer = try await Butler(repository: directory.url, run: "run/a")
        let fifth = try await writer.put(["v": JSONValue.int(5)], "metrics", dataId: ["instrument": "HSC", "visit": 5])
        #expect(try await writer.artifactURLs(fifth)[0].deletingLastPathComponent() == folder)
        #expect(!FileManager.default.fileExists(atPath: second.path))
        try await writer.close()
        try await butler.close()
    }

    @Test(
        "a writer killed after publishing: the next write there removes its unrecorded file, keeps a committed one, spares live writers",
        arguments: Backend.available)
    func killedAfterPublication(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let committed = try await butler.put(["v": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let committedFile = try await butler.artifactURLs(committed)[0]
        let folder = committedFile.deletingLastPathComponent()
        let dead = try KilledWriter.exitedProcessID()
        func publishedTwin(_ final: String, pid: Int32) throws -> (final: URL, staged: URL) {
            let staged = folder.appendingPathComponent(try KilledWriter.stagedName(for: final, pid: pid))
            let finalURL = folder.appendingPathComponent(final)
            if !FileManager.default.fileExists(atPath: finalURL.path) { try Data("{\"v\": 0}".utf8).write(to: finalURL) }
            try FileManager.default.linkItem(at: finalURL, to: staged)
            return (finalURL, staged)
        }
        // Killed between publication and commit; killed after commit (before its staged name
        // went); a live writer between publication and commit (this process).
        let ghost = try publishedTwin("metrics_ghost.json", pid: dead)
        let finished = try publishedTwin(committedFile.lastPathComponent, pid: dead)
        let live = try publishedTwin("metrics_live.json", pid: getpid())
        let report = try await butler.verify()
        #expect(report.orphans.map { $0.split(separator: "/").last.map(String.init) } == ["metrics_ghost.json"])
        #expect(
            Set(report.leftovers.map { String($0.split(separator: "/").last!) }) == [
                ghost.staged.lastPathComponent, finished.staged.lastPathComponent,
            ])
        #expect(report.missing.isEmpty && report.corrupt.isEmpty)
        // A write into the same directory (visit 3: same band) by a Butler that has not been there.
        let writer = try await Butler(repository: directory.url, run: "run/a")
        let third = try await writer.put(["v": JSONValue.int(3)], "metrics", dataId: ["instrument": "HSC", "visit": 3])
        #expect(try await writer.artifactURLs(third)[0].deletingLastPathComponent() == folder)
        let exists = { (url: URL) in FileManager.default.fileExists(atPath: url.path) }
        #expect(!exists(ghost.final) && !exists(ghost.staged), "the unrecorded file and its staged name are gone")
        #expect(exists(finished.final) && !exists(finished.staged), "a committed file stays; its staged name goes")
        #expect(try await writer.get(committed, as: [String: JSONValue].self) == ["v": 1])
        #expect(exists(live.final) && exists(live.staged), "a live writer's files are not touched")
        try await writer.close()
        try await butler.close()
    }

    @Test(
        "recorded paths that climb out of the root and symbolic links planted in it are refused before any write or delete",
        arguments: Backend.available)
    func hostileLayout(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let outside = try TemporaryDirectory()
        let victim = outside.url.appendingPathComponent("victim.json")
        try Data("{\"precious\": 1}".utf8).write(to: victim)
        // A record rewritten by someone with access to a shared registry.
        let ref = try await butler.put(["v": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let climbing = String(repeating: "../", count: 12) + String(victim.path.dropFirst())
        try await butler.withDatastore { _, session in
            try session.execute("UPDATE file_datastore_records SET path = ? WHERE dataset_id = ?", [.text(climbing), .uuid(ref.id)])
        }
        for attempt in [
            { _ = try await butler.get(ref) },
            { _ = try await butler.retrieveArtifacts([ref], destination: outside.url.appendingPathComponent("copy")) },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: ButlerError.self) { try await attempt() }
            #expect("\(error!)".contains("leaves the datastore root"), "\(error!)")
        }
        // Removal takes the dataset out of the registry and leaves the file it does not own.
        try await butler.pruneDatasets([ref], purge: true)
        #expect(FileManager.default.fileExists(atPath: victim.path))
        #expect(try await butler.dataset(id: ref.id) == nil)
        // A directory of the datastore replaced by a link to somewhere else: neither written
        // through nor deleted through.
        let second = try await butler.put(["v": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 2])
        let folder = try await butler.artifactURLs(second)[0].deletingLastPathComponent()
        let moved = outside.url.appendingPathComponent("moved")
        try FileManager.default.moveItem(at: folder, to: moved)
        try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: moved)
        try await butler.insertDimensionRecords(
            "visit",
            [
                ["instrument": "HSC", "id": 4, "name": "v4", "physical_filter": "HSC-R", "day_obs": 20131102]
            ])
        let planted = await #expect(throws: ButlerError.self) {
            try await butler.put(["v": JSONValue.int(4)], "metrics", dataId: ["instrument": "HSC", "visit": 4])
        }
        #expect("\(planted!)".contains("symbolic link"), "\(planted!)")
        try await butler.pruneDatasets([second], purge: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: moved.path).count == 1)
        try await butler.close()
    }

    @Test("a write after the registry file was deleted is refused and creates no empty registry", arguments: [Backend.sqlite])
    func deletedRegistry(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let database = directory.url.appendingPathComponent("gen3.sqlite3").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let error = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect("\(error!)".contains("removed or replaced"), "\(error!)")
        #expect(!FileManager.default.fileExists(atPath: database))
        try? await butler.close()
        let reopened = await #expect(throws: ButlerError.self) { try await Butler(repository: directory.url) }
        #expect("\(reopened!)".contains("does not exist"))
    }
}

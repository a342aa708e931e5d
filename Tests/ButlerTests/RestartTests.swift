import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// Restart semantics (issue 15 point 5): write-once-or-compare for provenance datasets, safe
/// when processes race, and re-runnable ingests that skip what is already there with the same
/// bytes and refuse what changed, naming both checksums.
@Suite("Re-running puts and ingests", .serialized)
struct RestartTests {
    static func repository(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        try await butler.registerDatasetType("config", dimensions: [], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        return (butler, directory)
    }

    @Test("putOrCompare writes once, accepts the same bytes, refuses others naming both checksums", arguments: Backend.available)
    func putOrCompare(backend: Backend) async throws {
        let (butler, directory) = try await Self.repository(backend)
        let config: [String: JSONValue] = ["doWrite": true, "threshold": 5.5, "name": "isr"]
        let first = try await butler.putOrCompare(config, "config", dataId: [:])
        let second = try await butler.putOrCompare(config, "config", dataId: [:])
        #expect(first.id == second.id)
        #expect(try await butler.queryDatasets(["config"], collections: ["run/a"]).count == 1)
        // A dimensionless type (a run's configuration) is found by the empty data ID.
        #expect(try await butler.get("config", dataId: [:], collections: ["run/a"], as: [String: JSONValue].self) == config)
        let different = await #expect(throws: ButlerError.self) {
            try await butler.putOrCompare(["doWrite": false] as [String: JSONValue], "config", dataId: [:])
        }
        let message = "\(String(describing: different))"
        #expect(
            different?.code == .conflict && message.contains("different contents") && message.components(separatedBy: "crc32c:").count == 3,
            "\(message)")
        // A plain put still refuses.
        await #expect(throws: ButlerError.self) { try await butler.put(config, "config", dataId: [:]) }

        // Processes racing to write the same provenance: one writes, the others compare.
        let contenders = try await (0..<4).asyncMap { _ in try await Butler(repository: directory.url, run: "run/b") }
        let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
            for contender in contenders { group.addTask { try await contender.putOrCompare(config, "config", dataId: [:]).id } }
            return try await group.reduce(into: Set<UUID>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try await butler.queryDatasets(["config"], collections: ["run/b"]).count == 1)
        for contender in contenders { try await contender.close() }
        try await butler.close()
    }

    @Test("an ingest re-run skips files already there with the same bytes and refuses a changed one", arguments: Backend.available)
    func ingestRerun(backend: Backend) async throws {
        let (butler, directory) = try await Self.repository(backend)
        var files: [FileToIngest] = []
        for visit in 1...3 {
            let url = directory.url.appendingPathComponent("plot\(visit).png")
            try Data("plot \(visit)".utf8).write(to: url)
            files.append(FileToIngest(url: url, dataId: ["instrument": "HSC", "visit": .int(Int64(visit))]))
        }
        let first = try await butler.ingest(Array(files.prefix(2)), datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun)
        // A re-run over all three: two are there already, one is new.
        await #expect(throws: ButlerError.self) {
            try await butler.ingest(files, datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun)
        }
        let again = try await butler.ingest(
            files, datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun, ifExists: .skipIdentical)
        #expect(again.count == 3 && Set(again.map(\.id)).isSuperset(of: first.map(\.id)))
        #expect(try await butler.queryDatasets(["plot"], collections: ["run/a"]).count == 3)
        // A file changed since: refused, naming it; nothing else of the batch goes in.
        try Data("plot 2, redrawn".utf8).write(to: files[1].url)
        let changed = await #expect(throws: ButlerError.self) {
            try await butler.ingest(files, datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun, ifExists: .skipIdentical)
        }
        #expect("\(String(describing: changed))".contains("plot2.png") && "\(String(describing: changed))".contains("different contents"))
        try await butler.close()
    }

    @Test(
        "replace removes the run's dataset of the type and data ID and writes the new one; its file and memberships go",
        arguments: Backend.available)
    func replace(backend: Backend) async throws {
        let (butler, directory) = try await Self.repository(backend)
        let dataId: DataId = ["instrument": "HSC", "visit": 1]
        let old = try await butler.put(["value": 1] as [String: JSONValue], "config", dataId: [:])
        try await butler.associate("tagged", [old])
        let oldFiles = try await butler.artifactURLs(old)
        let new = try await butler.put(["value": 2] as [String: JSONValue], "config", dataId: [:], ifExists: .replace)
        #expect(new.id != old.id)
        #expect(try await butler.get("config", dataId: [:], collections: ["run/a"], as: [String: JSONValue].self) == ["value": 2])
        #expect(try await butler.queryDatasets(["config"], collections: ["run/a"]).map(\.id) == [new.id])
        #expect(try await butler.queryDatasets(["config"], collections: ["tagged"]).isEmpty)
        #expect(try await butler.dataset(id: old.id) == nil)
        // The new artifact took the old path (the template has no ID): the file holds the new bytes.
        #expect(try await butler.artifactURLs(new) == oldFiles)
        #expect(try await butler.verify().isClean)

        // A value that cannot be written costs nothing: the old dataset stays.
        await #expect(throws: ButlerError.self) {
            try await butler.put(NotStorable(), "config", dataId: [:], ifExists: .replace)
        }
        #expect(try await butler.queryDatasets(["config"], collections: ["run/a"]).map(\.id) == [new.id])

        // Ingest: files of the same data IDs replace the datasets, deterministic IDs kept.
        let url = directory.url.appendingPathComponent("plot.png")
        try Data("first".utf8).write(to: url)
        let first = try await butler.ingest(
            [FileToIngest(url: url, dataId: dataId)], datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun)
        try Data("second, longer".utf8).write(to: url)
        let second = try await butler.ingest(
            [FileToIngest(url: url, dataId: dataId)], datasetType: "plot", run: "run/a", idGenerationMode: .dataIdTypeRun,
            ifExists: .replace)
        #expect(first.map(\.id) == second.map(\.id))
        #expect(try await butler.get("plot", dataId: dataId, collections: ["run/a"], as: Data.self) == Data("second, longer".utf8))
        #expect(try await butler.verify().isClean)
        try await butler.close()
    }

    @Test("extendRun false refuses a run that exists, for puts and ingests, and writes a new one", arguments: Backend.available)
    func extendRun(backend: Backend) async throws {
        let (butler, directory) = try await Self.repository(backend)
        try await butler.put(["value": 1] as [String: JSONValue], "config", dataId: [:])
        let refused = await #expect(throws: ButlerError.self) {
            try await butler.put(["value": 2] as [String: JSONValue], "config", dataId: [:], run: "run/a", extendRun: false)
        }
        #expect(refused?.code == .conflict && "\(refused!)".contains("run/a"), "\(String(describing: refused))")
        let fresh = try await butler.put(["value": 2] as [String: JSONValue], "config", dataId: [:], run: "run/b", extendRun: false)
        #expect(fresh.run == "run/b")
        let url = directory.url.appendingPathComponent("plot.png")
        try Data("plot".utf8).write(to: url)
        let file = FileToIngest(url: url, dataId: ["instrument": "HSC", "visit": 1])
        await #expect(throws: ButlerError.self) { try await butler.ingest([file], datasetType: "plot", run: "run/b", extendRun: false) }
        #expect(try await butler.queryDatasets(["plot"], collections: ["run/b"]).isEmpty)
        #expect(try await butler.ingest([file], datasetType: "plot", run: "run/c", extendRun: false).count == 1)
        try await butler.close()
    }
}

/// A value no formatter writes.
private struct NotStorable: Sendable {}

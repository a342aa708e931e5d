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
}

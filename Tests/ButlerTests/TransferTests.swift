import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// `transfer-datasets` (issue 15 point 2): datasets move between repositories on any registry
/// engine and any two datastores (POSIX → S3 → POSIX against the real S3 server) with their
/// IDs, runs, records and bytes; what the destination has is skipped; a missing dataset type
/// or record is refused unless asked to bring it, and nothing is half-done.
@Suite("Transferring datasets between repositories", .serialized)
struct TransferTests {
    static var cases: [(Backend, DatastoreBackend)] {
        Backend.available.flatMap { engine in DatastoreBackend.available.filter { $0.name != "chained" }.map { (engine, $0) } }
    }

    @Test("datasets, runs, records and artifacts travel with their IDs; a re-run skips them", arguments: cases)
    func transfer(backend: Backend, datastore: DatastoreBackend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        try await TestRepository.create(in: sourceRoot, backend: backend)
        let source = try await Butler(repository: sourceRoot, run: "run/a")
        try await TestRepository.insertInstrument(source, visits: 3, detectors: 2)
        try await source.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for visit in 1...3 {
            for detector in 0..<2 {
                refs.append(
                    try await source.put(
                        ["visit": .int(Int64(visit)), "detector": .int(Int64(detector))] as [String: JSONValue], "metrics",
                        dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
            }
        }
        // The destination: the other datastore (S3 when the server runs), the same engine.
        let destRoot = work.url.appendingPathComponent("dest")
        try await TestRepository.create(in: destRoot, backend: backend) { datastore.configure(&$0, destRoot) }
        let dest = try await Butler(repository: destRoot)

        // Without the dataset type or the records, refused; nothing is left behind.
        let noType = await #expect(throws: ButlerError.self) { try await dest.transfer(from: source, collections: ["run/a"]) }
        #expect("\(noType!)".contains("metrics") && "\(noType!)".contains("register"), "\(String(describing: noType))")
        let noRecords = await #expect(throws: ButlerError.self) {
            try await dest.transfer(from: source, collections: ["run/a"], registerDatasetTypes: true)
        }
        #expect(noRecords != nil)
        let leftCollections = try await dest.collections()
        let leftTypes = try await dest.datasetTypes()
        #expect(leftCollections.isEmpty && leftTypes.isEmpty)

        let summary = try await dest.transfer(
            from: source, collections: ["run/a"], where: "visit < 3", registerDatasetTypes: true, transferDimensions: true)
        #expect(summary.imported == 4 && summary.alreadyPresent == 0)
        for ref in refs where (ref.dataId["visit"].map { $0 < 3 } ?? false) {
            let copied = try #require(try await dest.dataset(id: ref.id))
            #expect(copied.run == ref.run && copied.dataId.required.map(\.value) == ref.dataId.required.map(\.value))
            let expected = try await source.get(ref, as: [String: JSONValue].self)
            #expect(try await dest.get(copied, as: [String: JSONValue].self) == expected)
        }
        // Again with the rest: the four already there are skipped, two more come.
        let again = try await dest.transfer(from: source, collections: ["run/a"], registerDatasetTypes: true, transferDimensions: true)
        #expect(again.imported == 2 && again.alreadyPresent == 4)

        // And back out of it to a third repository on POSIX: any two datastores.
        let thirdRoot = work.url.appendingPathComponent("third")
        try await TestRepository.create(in: thirdRoot, backend: backend)
        let third = try await Butler(repository: thirdRoot)
        #expect(
            try await third.transfer(from: dest, collections: ["*"], registerDatasetTypes: true, transferDimensions: true).imported == 6)
        #expect(try await third.queryDatasets(["metrics"], collections: ["run/a"]).count == 6)
        await #expect(throws: ButlerError.self) { try await third.transfer(from: source, transfer: .move) }
        for butler in [source, dest, third] { try await butler.close() }
    }
}

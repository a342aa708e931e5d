import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

/// `put(contentsOf:)`: many datasets in one transaction with one durability barrier, all or none.
@Suite("Batched puts")
struct BatchedPutTests {
    func makeButler(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend) { $0.datastore.disassembled = ["calexpSplit"] }
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler, visits: 30, detectors: 4)
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType("calexpSplit", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        return (butler, directory)
    }

    func dataId(_ visit: Int, _ detector: Int) -> DataId {
        ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
    }

    /// Every regular file under the datastore root but the registry and configuration.
    func artifactFiles(_ root: URL) -> Set<String> {
        var files: Set<String> = []
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return files }
        while let path = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular, path != "butler.yaml", !path.hasPrefix("gen3.sqlite3") {
                files.insert(path)
            }
        }
        return files
    }

    @Test("120 datasets of two types in one batch: all stored, readable, in order", arguments: Backend.available)
    func batch(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp(width: 8, height: 6)
        var datasets = (1...30).flatMap { visit in
            (0..<4).map { detector in
                DatasetToPut(["v": JSONValue.int(Int64(visit * 10 + detector))], "metrics", dataId: dataId(visit, detector))
            }
        }
        datasets.append(DatasetToPut(calexp, "calexpSplit", dataId: dataId(1, 0)))
        let refs = try await butler.put(contentsOf: datasets, run: "run/batch")
        #expect(refs.count == 121 && Set(refs.map(\.id)).count == 121)
        #expect(refs.map(\.datasetType.name) == datasets.map(\.datasetType))
        for (index, ref) in refs.prefix(120).enumerated() where index % 17 == 0 {
            let visit = 1 + index / 4, detector = index % 4
            #expect(try await butler.get(ref, as: [String: JSONValue].self) == ["v": .int(Int64(visit * 10 + detector))])
        }
        #expect(try await butler.get(refs[120], as: ExposureF.self) == calexp)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/batch"]).count == 120)
        #expect(try await butler.verify().isClean)
        #expect(try await butler.put(contentsOf: []).isEmpty)
        try await butler.close()
    }

    @Test(
        "a batch with a taken data ID — in the repository or twice in the batch — stores nothing and leaves no file",
        arguments: Backend.available)
    func allOrNone(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.put(["v": 1], "metrics", dataId: dataId(5, 1), run: "run/batch")
        let before = artifactFiles(directory.url)
        for conflicting in [dataId(5, 1), dataId(2, 0)] {
            var datasets = (1...20).map { DatasetToPut(["v": JSONValue.int(Int64($0))], "metrics", dataId: dataId($0, 0)) }
            datasets.append(DatasetToPut(["v": 99], "metrics", dataId: conflicting))
            let error = await #expect(throws: ButlerError.self) { try await butler.put(contentsOf: datasets, run: "run/batch") }
            #expect(error?.code == .conflict, "\(String(describing: error))")
            #expect(try await butler.queryDatasets(["metrics"], collections: ["run/batch"]).count == 1)
            #expect(artifactFiles(directory.url) == before, "no file of the failed batch stays")
        }
        let wrongType = await #expect(throws: ButlerError.self) {
            try await butler.put(contentsOf: [
                DatasetToPut(["v": 1], "metrics", dataId: dataId(3, 0)), DatasetToPut("text", "calexpSplit", dataId: dataId(3, 0)),
            ])
        }
        #expect(wrongType?.code == .typeMismatch)
        #expect(artifactFiles(directory.url) == before)
        try await butler.close()
    }
}

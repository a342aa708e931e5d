import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

/// Several writers on one repository, each with its own connections (as separate processes
/// would be): first uses of a run or dataset type race, and removals race puts.
@Suite("Concurrent writers")
struct ConcurrencyTests {
    func makeRepository(_ backend: Backend) async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        try await TestRepository.insertInstrument(butler, visits: 8)
        try await butler.close()
        return directory
    }

    @Test("eight writers registering one dataset type and putting into one new run all succeed", arguments: Backend.available)
    func firstUse(backend: Backend) async throws {
        let directory = try await makeRepository(backend)
        let writers = 8
        let butlers = try await (0..<writers).asyncMap { _ in try await Butler(repository: directory.url, run: "run/new") }
        try await withThrowingTaskGroup(of: DatasetRef.self) { group in
            for (index, butler) in butlers.enumerated() {
                group.addTask {
                    try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
                    return try await butler.put(
                        ["writer": JSONValue.int(Int64(index))], "metrics", dataId: ["instrument": "HSC", "visit": .int(Int64(index + 1))])
                }
            }
            var refs: [DatasetRef] = []
            for try await ref in group { refs.append(ref) }
            #expect(refs.count == writers)
        }
        let found = try await butlers[0].queryDatasets(["metrics"], collections: ["run/new"])
        #expect(found.count == writers)
        for butler in butlers { try await butler.close() }
    }

    @Test("a put into a run another writer just removed is a clear error, not a raw constraint failure", arguments: Backend.available)
    func putAfterRemoval(backend: Backend) async throws {
        let directory = try await makeRepository(backend)
        let writer = try await Butler(repository: directory.url, run: "run/doomed")
        try await writer.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await writer.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let remover = try await Butler(repository: directory.url)
        try await remover.removeRuns(["run/doomed"])
        let error = await #expect(throws: ButlerError.self) {
            try await writer.put(["a": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 2])
        }
        #expect(error?.code == .collection && "\(error!)".contains("run/doomed") && "\(error!)".contains("removed"), "\(error!)")
        // The writer forgot the stale run and creates it anew on the next put.
        try await writer.put(["a": JSONValue.int(3)], "metrics", dataId: ["instrument": "HSC", "visit": 3])
        try await writer.close()
        try await remover.close()
    }
}

extension Sequence {
    /// `map` with an async transform, one element at a time.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

import Butler
import ButlerTestSupport
import Foundation
import Testing

/// Several writer processes on one repository (issue 10, point 2): `TestWriter puts` processes
/// putting, ingesting and batching into one RUN with disjoint data IDs, beside a `TestWriter
/// chains` process redefining a CHAINED collection and creating and removing a run of its own.
/// Nothing may be lost or duplicated, and no writer may see "database is locked" or any other
/// error: busy waiting and retries are the library's business.
///
/// `BUTLER_CONCURRENT_WRITERS` sets the number of writer processes (8 in the test command; the
/// documented long run is 16).
@Suite("Concurrent writer processes", .serialized)
struct ConcurrentWriterTests {
    static var writers: Int { ProcessInfo.processInfo.environment["BUTLER_CONCURRENT_WRITERS"].flatMap { Int($0) } ?? 8 }
    static let datasetsPerWriter = 30

    /// A started process whose output goes to files (pipes could fill and stall it).
    struct Running {
        let process: Process
        let output: URL
        let errors: URL

        init(_ arguments: [String], in directory: URL, name: String) throws {
            process = Process()
            process.executableURL = BuiltProducts.testWriter
            process.arguments = arguments
            output = directory.appendingPathComponent("\(name).out")
            errors = directory.appendingPathComponent("\(name).err")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
        }

        func finish() throws -> (status: Int32, output: String, errors: String) {
            process.waitUntilExit()
            return (
                process.terminationStatus, try String(contentsOf: output, encoding: .utf8), try String(contentsOf: errors, encoding: .utf8)
            )
        }
    }

    @Test(
        "writer processes and a chain/removal process on one repository: nothing lost, nothing duplicated, no error",
        arguments: Backend.available)
    func writers(backend: Backend) async throws {
        let directory = try TemporaryDirectory(prefix: "butler-writers")
        let repository = directory.url.appendingPathComponent("repo")
        try await TestRepository.create(in: repository, backend: backend)
        let visitsPerWriter = (Self.datasetsPerWriter + 3) / 4
        do {
            let butler = try await Butler(repository: repository)
            try await TestRepository.insertInstrument(butler, visits: Self.writers * visitsPerWriter + 1, detectors: 4)
            try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
            _ = try await butler.registerRun("shared/run")
            try await butler.close()
        }
        let started = Date()
        let writerCount = Self.writers, perWriter = Self.datasetsPerWriter
        let folder = directory.url
        // Started and waited for off the cooperative pool (waiting blocks a thread).
        let (results, chainResult) = try await offCooperativePool {
            let chains = try Running(["chains", repository.path, "10"], in: folder, name: "chains")
            let writers = try (0..<writerCount).map { index in
                try Running(
                    ["puts", repository.path, "shared/run", String(1 + index * visitsPerWriter), String(perWriter)],
                    in: folder, name: "writer\(index)")
            }
            return (try writers.map { try $0.finish() }, try chains.finish())
        }
        var reported: [UUID] = []
        for (index, result) in results.enumerated() {
            #expect(result.status == 0 && result.errors.isEmpty, "writer \(index) (\(backend)): \(result.errors)")
            reported += result.output.split(separator: "\n").compactMap { UUID(uuidString: String($0)) }
        }
        #expect(chainResult.status == 0 && chainResult.errors.isEmpty, "chains (\(backend)): \(chainResult.errors)")
        let seconds = Date().timeIntervalSince(started)
        #expect(reported.count == Self.writers * Self.datasetsPerWriter, "every write was reported")
        #expect(Set(reported).count == reported.count, "no dataset ID twice")
        let butler = try await Butler(repository: repository)
        let stored = try await butler.queryDatasets(["metrics"], collections: ["shared/run"])
        #expect(Set(stored.map(\.id)) == Set(reported), "\(backend): the registry holds exactly what the writers reported")
        #expect(Set(stored.map(\.dataId)).count == stored.count)
        let report = try await butler.verify()
        #expect(report.isClean, "\(report)")
        #expect(try await butler.collectionChain("chains/all") == ["shared/run"])
        try await butler.close()
        print(
            "concurrent writers (\(backend)): \(Self.writers) processes, \(reported.count) datasets in \(String(format: "%.1f", seconds)) s"
        )
    }
}

public import Butler
import Composites
public import Foundation

/// A registry engine a shared suite runs against.
public enum Backend: String, Sendable, CustomStringConvertible, CaseIterable {
    /// The embedded SQLite registry.
    case sqlite
    /// A PostgreSQL server named by `BUTLER_TEST_POSTGRES_URL` (the test command starts one).
    case postgresql

    public var description: String { rawValue }

    /// The engines available in this run: SQLite always, PostgreSQL when a server is given.
    public static var available: [Backend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgresql]
    }

    /// The PostgreSQL server URL for tests, if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["BUTLER_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A directory removed when the test that made it ends (call `remove()` or let deinit do it).
public final class TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// Creates a fresh directory under the system temporary directory.
    public init(prefix: String = "butler-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Creates repositories for tests on a chosen backend.
public enum TestRepository {
    /// A configuration for `backend`; PostgreSQL repositories get a schema of their own.
    public static func config(_ backend: Backend) -> RepositoryConfig {
        switch backend {
        case .sqlite:
            return .defaultConfig()
        case .postgresql:
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            return .defaultConfig(database: Backend.postgresURL!, namespace: String(schema))
        }
    }

    /// Creates a repository in `directory` on `backend`.
    @discardableResult
    public static func create(in directory: URL, backend: Backend, edit: (inout RepositoryConfig) -> Void = { _ in }) async throws -> URL {
        var config = config(backend)
        edit(&config)
        return try await Butler.createRepository(at: directory, config: config)
    }

    /// A repository at `root` (created there) with run `run/a` holding a `metrics` dataset for
    /// each visit and detector, its value naming both.
    public static func metricsRepository(_ root: URL, backend: Backend, visits: Int, detectors: Int) async throws -> Butler {
        try await TestRepository.create(in: root, backend: backend)
        let butler = try await Butler(repository: root, run: "run/a")
        try await TestRepository.insertInstrument(butler, visits: visits, detectors: detectors)
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        for visit in 1...visits {
            try await butler.put(
                contentsOf: (0..<detectors).map { (detector: Int) -> DatasetToPut in
                    let value: [String: JSONValue] = ["visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
                    let dataId: DataId = ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
                    return DatasetToPut(value, "metrics", dataId: dataId)
                })
        }
        return butler
    }

    /// Inserts a small HSC-like instrument: 2 filters, 4 detectors, visits 1…n.
    public static func insertInstrument(_ butler: Butler, visits: Int = 3, detectors: Int = 4) async throws {
        try await butler.insertDimensionRecords("instrument", [["name": "HSC", "detector_max": 200, "visit_max": 10_000_000]])
        try await butler.insertDimensionRecords(
            "physical_filter",
            [
                ["instrument": "HSC", "name": "HSC-I", "band": "i"],
                ["instrument": "HSC", "name": "HSC-R", "band": "r"],
            ])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "HSC", "id": 20131102]])
        try await butler.insertDimensionRecords(
            "detector",
            (0..<detectors).map {
                ["instrument": "HSC", "id": .int(Int64($0)), "full_name": .string("ccd\($0)")]
            })
        try await butler.insertDimensionRecords(
            "visit",
            (1...visits).map { visit in
                [
                    "instrument": "HSC", "id": .int(Int64(visit)), "name": .string("v\(visit)"),
                    "physical_filter": visit % 2 == 1 ? "HSC-I" : "HSC-R", "day_obs": 20131102,
                    "exposure_time": .double(30.0 * Double(visit)),
                ]
            })
    }
}

/// Where the built `butler` executable is.
public enum BuiltProducts {
    /// The directory holding the test bundle, which is also where `swift build` puts products.
    public static var directory: URL {
        #if os(Linux)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidate = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("butler").path) { return candidate }
            candidate = candidate.deletingLastPathComponent()
        }
        return executable.deletingLastPathComponent()
        #else
        return Bundle.main.bundleURL.deletingLastPathComponent()
        #endif
    }

    /// The `butler` executable.
    public static var butler: URL { directory.appendingPathComponent("butler") }

    /// The `TestWriter` executable (Tests/TestWriter): writer processes to kill or to run side
    /// by side.
    public static var testWriter: URL { directory.appendingPathComponent("TestWriter") }
}

/// Runs blocking work (waiting for a child process, sleeping) on a thread of its own, off
/// Swift's cooperative pool: on a 2-core machine the pool has two threads, and a test blocking
/// one of them for a minute starves every other test running in parallel.
public func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Runs a Python program given as text, with arguments.
public func runPython(_ program: String, _ arguments: String...) throws -> (status: Int32, output: String) {
    try runPython(["-c", program] + arguments)
}

/// Runs `python3` with arguments and `input` on its standard input; its output and errors
/// together. The test command installs what the oracles import (astropy, h5py, numpy).
public func runPython(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    // The input comes from a file: written to a pipe, a large one would fill it while the
    // output waits to be read.
    let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("python-input-\(UUID().uuidString)")
    try (input ?? Data()).write(to: inputFile)
    defer { try? FileManager.default.removeItem(at: inputFile) }
    process.standardInput = try FileHandle(forReadingFrom: inputFile)
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The Python environment with the reference implementations (`lsst-daf-butler`,
/// `lsst-sphgeom`, `hpgeom`, pinned by `scripts/daf-butler-env.sh`, made once in /tmp), and a
/// way to run the repository's oracle scripts with it.
public enum ReferencePython {
    /// The repository's root (tests run from any directory).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The environment's python, made if missing.
    public static func path() throws -> String {
        let environment = Process()
        environment.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        environment.arguments = ["bash", root.appendingPathComponent("scripts/daf-butler-env.sh").path]
        let output = Pipe()
        environment.standardOutput = output
        try environment.run()
        let python = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        environment.waitUntilExit()
        guard environment.terminationStatus == 0 else { throw ReferenceError("scripts/daf-butler-env.sh failed") }
        return python
    }

    /// Runs `Tests/Interop/<script>` with `arguments` and returns what it prints.
    /// - Throws: when it exits with an error.
    public static func run(_ script: String, _ arguments: [String]) throws -> Data {
        let oracle = Process()
        oracle.executableURL = URL(fileURLWithPath: try path())
        oracle.arguments = [root.appendingPathComponent("Tests/Interop/\(script)").path] + arguments
        let output = Pipe()
        oracle.standardOutput = output
        try oracle.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        oracle.waitUntilExit()
        guard oracle.terminationStatus == 0 else { throw ReferenceError("\(script) \(arguments) exited with \(oracle.terminationStatus)") }
        return data
    }

    /// A reference script that could not run.
    public struct ReferenceError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

/// A small deterministic random generator (SplitMix64): tests draw the same values every run,
/// so a failure replays.
public struct SplitMix64: RandomNumberGenerator {
    /// The generator's state; the seed.
    public var state: UInt64

    /// A generator seeded with `state`.
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

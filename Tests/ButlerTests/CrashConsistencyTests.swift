import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The crash-consistency harness (issue 10, point 1): a `TestWriter churn` process writes into a
/// repository — puts, disassembled puts, ingests by copy and by move, removals of runs — and is
/// killed with SIGKILL at a random moment, over and over; then the repository is checked.
///
/// - every write the worker acknowledged (its log is synced after each) is there and reads back
///   the bytes written; a run removal killed midway removed all of the run or nothing;
/// - every dataset in the registry reads (no row without its artifact) and `verify` finds no
///   missing or corrupt artifact;
/// - what killed writers left (staged files, and files published before a commit that never
///   happened) is only ever listed as leftovers and orphans, and `verify --repair` removes them
///   all; afterwards the repository takes writes.
///
/// `BUTLER_CRASH_KILLS` sets the number of kills per engine (100 in the test command; the
/// documented long run is 1,000).
@Suite("Crash consistency: kill -9 during writes", .serialized)
struct CrashConsistencyTests {
    static var kills: Int { ProcessInfo.processInfo.environment["BUTLER_CRASH_KILLS"].flatMap { Int($0) } ?? 100 }

    @Test(
        "writes killed at random points lose nothing acknowledged and leave registry and datastore agreeing", arguments: Backend.available)
    func killedWriters(backend: Backend) async throws {
        let directory = try TemporaryDirectory(prefix: "butler-crash")
        let repository = directory.url.appendingPathComponent("repo")
        try await TestRepository.create(in: repository, backend: backend) { $0.datastore.disassembled = ["calexpSplit"] }
        do {
            let butler = try await Butler(repository: repository)
            try await TestRepository.insertInstrument(butler, visits: 40, detectors: 4)
            try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
            try await butler.registerDatasetType("calexpSplit", dimensions: ["visit", "detector"], storageClass: "ExposureF")
            try await butler.close()
        }
        let log = directory.url.appendingPathComponent("ack.log")
        let firstSeed = UInt64.random(in: 1...(1 << 40))
        var killedWhileWriting = 0
        for round in 0..<Self.kills {
            let seed = firstSeed + UInt64(round)
            let outcome = try await offCooperativePool {
                try Self.runAndKill(repository: repository, log: log, seed: seed, directory: directory.url)
            }
            switch outcome {
            case .killed: killedWhileWriting += 1
            case .failed(let reason):
                Issue.record("worker with seed \(seed) (round \(round), \(backend)) ended on its own: \(reason)")
                return
            }
        }
        #expect(killedWhileWriting == Self.kills)
        try await Self.check(repository: repository, log: log, backend: backend, firstSeed: firstSeed)
    }

    enum Outcome: Sendable {
        case killed
        case failed(String)
    }

    /// Starts a worker, waits until it has opened the repository, lets it write for a random
    /// 0–300 ms and kills it.
    static func runAndKill(repository: URL, log: URL, seed: UInt64, directory: URL) throws -> Outcome {
        let process = Process()
        process.executableURL = BuiltProducts.testWriter
        process.arguments = ["churn", repository.path, log.path, String(seed)]
        let output = Pipe()
        let errors = directory.appendingPathComponent("worker-stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let ready = output.fileHandleForReading.availableData
        guard String(decoding: ready, as: UTF8.self).hasPrefix("ready") else {
            process.waitUntilExit()
            return .failed("before opening the repository: " + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        usleep(UInt32.random(in: 0..<300_000))
        guard process.isRunning else {
            process.waitUntilExit()
            return .failed("status \(process.terminationStatus): " + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? .killed : .failed("status \(process.terminationStatus): " + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
    }

    /// What the acknowledgement log promises.
    struct Promises {
        /// Datasets that must be there, with the token of their JSON value (nil for exposures).
        var datasets: [UUID: (run: String, token: String?)] = [:]
        /// Datasets of runs whose removal was killed: all there or none.
        var allOrNone: [[UUID]] = []
        var acknowledged = 0
        /// Lines a kill tore in the middle of their `write` (never acknowledged: the sync follows).
        var torn = 0

        init(log: URL) throws {
            let text = try String(contentsOf: log, encoding: .utf8)
            var removing: [String: [UUID]] = [:]
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
                    torn += 1
                    continue
                }
                guard let entry = object as? [String: String], let op = entry["op"], let run = entry["run"] else { continue }
                acknowledged += 1
                switch op {
                case "remove-begin":
                    // Until its acknowledgement, the run's datasets may be going.
                    let ids = datasets.filter { $0.value.run == run }.map(\.key)
                    for id in ids { datasets[id] = nil }
                    if let earlier = removing[run] { allOrNone.append(earlier) }
                    removing[run] = ids
                case "remove-run":
                    removing[run] = nil
                default:
                    // A write after an unacknowledged removal: that removal's process is dead.
                    if let pending = removing.removeValue(forKey: run) { allOrNone.append(pending) }
                    guard let id = entry["id"].flatMap(UUID.init(uuidString:)) else { continue }
                    datasets[id] = (run, entry["token"])
                }
            }
            allOrNone += removing.values
        }
    }

    static func check(repository: URL, log: URL, backend: Backend, firstSeed: UInt64) async throws {
        let context = "\(backend), seeds from \(firstSeed)"
        let promises = try Promises(log: log)
        #expect(promises.acknowledged > Self.kills, "the workers acknowledged writes (\(context))")
        #expect(promises.torn <= Self.kills, "at most one torn log line per kill (\(context))")
        let butler = try await Butler(repository: repository)
        let found = try await butler.queryDatasets(["metrics", "calexpSplit"], collections: ["crash/*"])
        let byId = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let calexp = try makeCalexp(width: 12, height: 10)
        var lost: [UUID] = []
        for (id, promise) in promises.datasets {
            guard let ref = byId[id] else {
                lost.append(id)
                continue
            }
            #expect(ref.run == promise.run)
            if let token = promise.token {
                let value = try await butler.get(ref, as: [String: JSONValue].self)
                #expect(value["token"].map { "\($0)" } == token, "\(ref) (\(context))")
            } else {
                #expect(try await butler.get(ref, as: ExposureF.self) == calexp, "\(ref) (\(context))")
            }
        }
        #expect(lost.isEmpty, "acknowledged writes lost (\(context)): \(lost)")
        for group in promises.allOrNone {
            let present = group.filter { byId[$0] != nil }.count
            #expect(
                present == 0 || present == group.count, "a killed removal removed \(group.count - present) of \(group.count) (\(context))")
        }
        // Every registered dataset reads, acknowledged or not (a write killed after its commit).
        for ref in found where promises.datasets[ref.id] == nil {
            _ = try await butler.get(ref)
        }
        let report = try await butler.verify(checksums: true)
        #expect(report.missing.isEmpty && report.corrupt.isEmpty, "\(report.missing) \(report.corrupt) (\(context))")
        #expect(report.checked > 0)
        let repaired = try await butler.verify(checksums: true, repair: true)
        #expect(Set(repaired.removed) == Set(report.leftovers + report.orphans))
        let after = try await butler.verify(checksums: true)
        #expect(
            after.missing.isEmpty && after.corrupt.isEmpty && after.orphans.isEmpty && after.leftovers.isEmpty,
            "after repair: \(after) (\(context))")
        // Independently of verify: the files under the root are exactly the recorded ones.
        _ = try await butler.emptyTrash()
        var recorded: Set<String> = []
        for ref in try await butler.queryDatasets(["metrics", "calexpSplit"], collections: ["crash/*"]) {
            for url in try await butler.artifactURLs(ref) { recorded.insert(url.standardizedFileURL.path) }
        }
        var onDisk: Set<String> = []
        let root = repository.standardizedFileURL.path
        if let walker = FileManager.default.enumerator(atPath: root) {
            while let relative = walker.nextObject() as? String {
                guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular,
                    relative != "butler.yaml", !relative.hasPrefix("gen3.sqlite3")
                else { continue }
                onDisk.insert(root + "/" + relative)
            }
        }
        #expect(
            onDisk == recorded,
            "unrecorded files: \(onDisk.subtracting(recorded).sorted()); recorded but absent: \(recorded.subtracting(onDisk).sorted()) (\(context))"
        )
        print(
            "crash harness (\(context)): \(Self.kills) kills, \(promises.acknowledged) acknowledged operations, \(found.count) datasets; "
                + "left by killed writers: \(report.leftovers.count) staged files, \(report.orphans.count) published without commit")
        let ref = try await butler.put(
            ["token": 1], "metrics", dataId: ["instrument": "HSC", "visit": 1, "detector": 0], run: "crash/after")
        #expect(try await butler.get(ref, as: [String: JSONValue].self)["token"] == 1)
        try await butler.close()
    }
}

// Writer processes for the tests that need several processes or a process to kill:
//
//   TestWriter churn REPOSITORY ACK-LOG SEED
//     For the crash-consistency harness (`CrashConsistencyTests`), which kills it with SIGKILL
//     at random points: writes as fast as it can — puts of JSON values, batches, disassembled
//     exposures (several artifacts, shared components), ingests by copy and by move, removals
//     of whole runs — and appends each operation it saw succeed to an acknowledgement log,
//     synced before the next starts. What the log says was acknowledged must survive any kill;
//     what was in flight may be there or not, but whole. Prints "ready" once the repository is
//     open, so the harness kills during writes, not start-up.
//
//   TestWriter puts REPOSITORY RUN VISIT COUNT
//     For the concurrent-writer tests (`ConcurrentWriterTests`): COUNT datasets into RUN, data
//     IDs visit VISIT, VISIT+1, … × detectors 0–3, every third by ingest (copy), one in ten in a
//     batch of four; prints each dataset ID; any error goes to stderr with exit status 1.
//
//   TestWriter chains REPOSITORY COUNT
//     Concurrent collection work beside the writers: COUNT times, redefine a CHAINED
//     collection, fill and remove a run of its own.
import Butler
import ButlerTestSupport
import Composites
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The acknowledgement log: one JSON object per line, synced before the call returns.
final class AckLog {
    let descriptor: Int32

    init(path: String) {
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { fatalError("cannot open \(path)") }
        // A writer killed inside `write` can leave a torn line without its newline (the kernel
        // stops a write at a page boundary for SIGKILL); end it so this writer's lines stay whole.
        let size = lseek(descriptor, 0, SEEK_END)
        if size > 0 {
            let reader = open(path, O_RDONLY | O_CLOEXEC)
            var last: UInt8 = 0
            if reader >= 0, pread(reader, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") {
                _ = write(descriptor, "\n", 1)
            }
            if reader >= 0 { close(reader) }
        }
    }

    func append(_ entry: [String: String]) {
        let line = String(decoding: try! JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]), as: UTF8.self) + "\n"
        _ = line.withCString { write(descriptor, $0, strlen($0)) }
        fsync(descriptor)
    }
}

let arguments = CommandLine.arguments
let usage = "usage: TestWriter churn REPOSITORY ACK-LOG SEED | puts REPOSITORY RUN VISIT COUNT | chains REPOSITORY COUNT\n"
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
let repository = URL(fileURLWithPath: arguments[2])
let butler = try await Butler(repository: repository)

func fail(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}

switch (arguments[1], arguments.count) {
case ("puts", 6):
    guard let visit = Int64(arguments[4]), let count = Int(arguments[5]) else { fail(ButlerError(.invalidParameter, usage)) }
    do { try await puts(run: arguments[3], firstVisit: visit, count: count) } catch { fail(error) }
    exit(0)
case ("chains", 4):
    guard let count = Int(arguments[3]) else { fail(ButlerError(.invalidParameter, usage)) }
    do { try await chains(count: count) } catch { fail(error) }
    exit(0)
case ("churn", 5):
    guard let seed = UInt64(arguments[4]) else { fail(ButlerError(.invalidParameter, usage)) }
    try await churn(log: AckLog(path: arguments[3]), seed: seed)
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}

func puts(run: String, firstVisit: Int64, count: Int) async throws {
    let sources = repository.deletingLastPathComponent().appendingPathComponent("sources-\(run.hashValue)-\(firstVisit)")
    try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
    var index = 0
    func nextDataId() -> DataId {
        defer { index += 1 }
        return ["instrument": "HSC", "visit": .int(firstVisit + Int64(index / 4)), "detector": .int(Int64(index % 4))]
    }
    var written = 0
    while written < count {
        var ids: [UUID] = []
        if written % 10 == 9 && count - written >= 4 {
            let batch = (0..<4).map { _ in DatasetToPut(["index": JSONValue.int(Int64(index))], "metrics", dataId: nextDataId()) }
            ids = try await butler.put(contentsOf: batch, run: run).map(\.id)
        } else if written % 3 == 2 {
            let file = sources.appendingPathComponent("\(index).json")
            let dataId = nextDataId()
            try JSONEncoder().encode(["index": index]).write(to: file)
            ids = try await butler.ingest([FileToIngest(url: file, dataId: dataId)], datasetType: "metrics", run: run).map(\.id)
        } else {
            let dataId = nextDataId()
            ids = [try await butler.put(["index": JSONValue.int(Int64(index))], "metrics", dataId: dataId, run: run).id]
        }
        for id in ids { FileHandle.standardOutput.write(Data((id.uuidString + "\n").utf8)) }
        written += ids.count
    }
}

func chains(count: Int) async throws {
    let own = "chains/\(getpid())"
    for round in 0..<count {
        try await butler.put(
            ["round": JSONValue.int(Int64(round))], "metrics", dataId: ["instrument": "HSC", "visit": 1, "detector": 0], run: own)
        try await butler.setCollectionChain("chains/all", children: ["shared/run", own])
        try await butler.setCollectionChain("chains/all", children: ["shared/run"])
        try await butler.removeRuns([own])
    }
}

/// A value no other operation writes, so a wrong file read back is seen.
func payload(_ random: inout SplitMix) -> [String: JSONValue] {
    ["token": .int(Int64(random.next() >> 12)), "noise": .double(Double(random.next() >> 40) / 1e3)]
}

func token(_ value: [String: JSONValue]) -> String {
    if case .int(let token)? = value["token"] { return String(token) }
    return "?"
}

func churn(log: AckLog, seed: UInt64) async throws -> Never {
    let sources = repository.deletingLastPathComponent().appendingPathComponent("sources-\(seed)")
    try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
    var random = SplitMix(state: seed)
    let calexp = try makeCalexp(width: 12, height: 10)
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    while true {
        let run = "crash/r\(random.next() % 4)"
        let dataId: DataId = [
            "instrument": "HSC", "visit": .int(Int64(1 + random.next() % 40)), "detector": .int(Int64(random.next() % 4)),
        ]
        let choice = random.next() % 20
        do {
            switch choice {
            case 0..<10:
                let value = payload(&random)
                let ref = try await butler.put(value, "metrics", dataId: dataId, run: run)
                log.append(["op": "put", "id": ref.id.uuidString, "run": run, "token": token(value)])
            case 10..<12:
                let ref = try await butler.put(calexp, "calexpSplit", dataId: dataId, run: run)
                log.append(["op": "put-exposure", "id": ref.id.uuidString, "run": run])
            case 12:
                // A batch: one transaction, one durability barrier; all acknowledged together.
                let visit = Int64(1 + random.next() % 40)
                let values = (0..<4).map { _ in payload(&random) }
                let refs = try await butler.put(
                    contentsOf: values.enumerated().map { detector, value in
                        DatasetToPut(
                            value, "metrics", dataId: ["instrument": "HSC", "visit": .int(visit), "detector": .int(Int64(detector))])
                    }, run: run)
                for (ref, value) in zip(refs, values) {
                    log.append(["op": "put-batch", "id": ref.id.uuidString, "run": run, "token": token(value)])
                }
            case 13..<18:
                let value = payload(&random)
                let file = sources.appendingPathComponent("\(random.next()).json")
                try JSONEncoder().encode(value).write(to: file)
                let transfer: TransferMode = choice < 16 ? .copy : .move
                let refs = try await butler.ingest(
                    [FileToIngest(url: file, dataId: dataId)], datasetType: "metrics", run: run, transfer: transfer)
                if transfer == .copy { try? FileManager.default.removeItem(at: file) }
                log.append(["op": "ingest-\(transfer.rawValue)", "id": refs[0].id.uuidString, "run": run, "token": token(value)])
            default:
                // Logged before and after: a removal killed in between may have committed or not,
                // and the checker then wants all of the run's datasets or none.
                log.append(["op": "remove-begin", "run": run])
                try await butler.removeRuns([run])
                log.append(["op": "remove-run", "run": run])
            }
        } catch let error as ButlerError where error.code == .conflict || error.code == .collection {
            // A data ID already taken in that run, or a run that is not there: usual churn.
            continue
        }
    }
}

// The process the crash-consistency harness (`CrashConsistencyTests`) kills with SIGKILL at
// random points: it writes into a repository as fast as it can — puts of JSON values and of
// disassembled exposures (several artifacts, shared components), ingests by copy and by move,
// and removals of whole runs — and appends each operation it saw succeed to an acknowledgement
// log, synced before the next operation starts. What the log says was acknowledged must survive
// any kill; what was in flight may be there or not, but whole.
//
//   CrashWorker REPOSITORY ACK-LOG SEED
//
// Prints "ready" once the repository is open, so the harness kills during writes, not start-up.
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
    }

    func append(_ entry: [String: String]) {
        let line = String(decoding: try! JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]), as: UTF8.self) + "\n"
        _ = line.withCString { write(descriptor, $0, strlen($0)) }
        fsync(descriptor)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let seed = UInt64(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: CrashWorker REPOSITORY ACK-LOG SEED\n".utf8))
    exit(64)
}
let repository = URL(fileURLWithPath: arguments[1])
let log = AckLog(path: arguments[2])
let sources = repository.deletingLastPathComponent().appendingPathComponent("sources-\(seed)")
try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
var random = SplitMix(state: seed)
let butler = try await Butler(repository: repository)
let calexp = try makeCalexp(width: 12, height: 10)
FileHandle.standardOutput.write(Data("ready\n".utf8))

/// A value no other operation writes, so a wrong file read back is seen.
func payload(_ random: inout SplitMix) -> [String: JSONValue] {
    ["token": .int(Int64(random.next() >> 12)), "noise": .double(Double(random.next() >> 40) / 1e3)]
}

func token(_ value: [String: JSONValue]) -> String {
    if case .int(let token)? = value["token"] { return String(token) }
    return "?"
}

while true {
    let run = "crash/r\(random.next() % 4)"
    let dataId: DataId = ["instrument": "HSC", "visit": .int(Int64(1 + random.next() % 40)), "detector": .int(Int64(random.next() % 4))]
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
                    DatasetToPut(value, "metrics", dataId: ["instrument": "HSC", "visit": .int(visit), "detector": .int(Int64(detector))])
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

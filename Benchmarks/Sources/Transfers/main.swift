// Issue 15's rows: export and import of 10⁵ datasets (daf_butler's YAML and our SQLite form;
// import goal ≥ 50k datasets/s on SQLite, and its ratio to daf_butler importing the same export
// in the same run), transfer of 10³ and 10⁴ datasets with the registry statements each sends, and verify
// against read(2) of the same files. Not a harness benchmark: each workload is one long
// operation on repositories made for it, timed a few times.
//   swift build -c release --product Transfers
//   .build/release/Transfers [--datasets N] [--transfer M] [--daf PYTHON SCRIPT]
// Prints a Markdown table.
import Butler
import Composites
import Foundation

var datasets = 100_000
var transferSize = 10_000
var daf: (python: String, script: String)?
var remaining = CommandLine.arguments.dropFirst()
while let argument = remaining.popFirst() {
    switch argument {
    case "--datasets": datasets = Int(remaining.popFirst() ?? "") ?? datasets
    case "--transfer": transferSize = Int(remaining.popFirst() ?? "") ?? transferSize
    case "--daf": daf = (remaining.popFirst() ?? "", remaining.popFirst() ?? "")
    default: fatalError("unknown argument \(argument)")
    }
}

let work = URL(fileURLWithPath: "/tmp/butler-bench-transfers-v1")
try? FileManager.default.removeItem(at: work)
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A repository of `count` small JSON datasets over visits × 100 detectors (not timed).
func makeSource(_ root: URL, count: Int) async throws -> Butler {
    var config = RepositoryConfig.defaultConfig()
    config.datastore.fsync = false  // setup only; the timed imports sync as configured by default
    try await Butler.createRepository(at: root, config: config)
    let butler = try await Butler(repository: root, run: "bench/run")
    let visits = (count + 99) / 100
    try await butler.insertDimensionRecords("instrument", [["name": "Cam", "detector_max": 100, "visit_max": 10_000_000]])
    try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
    try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261201]])
    try await butler.insertDimensionRecords(
        "detector", (0..<100).map { ["instrument": "Cam", "id": .int(Int64($0)), "full_name": .string("d\($0)")] })
    try await butler.insertDimensionRecords(
        "visit",
        (1...visits).map { visit -> [String: JSONValue] in
            let id = JSONValue.int(Int64(visit))
            let name = JSONValue.string("v\(visit)")
            return ["instrument": "Cam", "id": id, "name": name, "physical_filter": "Cam-r", "day_obs": 20261201]
        })
    try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
    for start in stride(from: 0, to: count, by: 2000) {
        let batch = (start..<min(count, start + 2000)).map { index -> DatasetToPut in
            let value: [String: JSONValue] = ["index": .int(Int64(index)), "value": .double(Double(index) * 0.5)]
            let dataId: DataId = ["instrument": "Cam", "visit": .int(Int64(index / 100 + 1)), "detector": .int(Int64(index % 100))]
            return DatasetToPut(value, "metrics", dataId: dataId)
        }
        try await butler.put(contentsOf: batch)
    }
    return butler
}

var rows: [(String, String, String, String)] = []
@MainActor func row(_ name: String, _ value: String, _ limit: String, _ versus: String) { rows.append((name, value, limit, versus)) }
func rate(_ count: Int, _ seconds: Double) -> String { String(format: "%.0f datasets/s (%.2f s)", Double(count) / seconds, seconds) }

let source = try await makeSource(work.appendingPathComponent("source"), count: datasets)

// Export: daf_butler's YAML and a copy of every artifact.
let exportDirectory = work.appendingPathComponent("export")
let exportSeconds = try await seconds {
    try await source.export(to: exportDirectory, collections: ["bench/run"], transfer: .copy)
}
row("export \(datasets) datasets (YAML + copy)", rate(datasets, exportSeconds), "—", "—")

/// The median of three imports of `directory` into new repositories, artifacts used in place
/// (`direct`).
func medianImport(_ directory: URL, name: String, count: Int) async throws -> Double {
    var times: [Double] = []
    for attempt in 0..<3 {
        let root = work.appendingPathComponent("\(name)\(attempt)")
        try await Butler.createRepository(at: root)
        let target = try await Butler(repository: root)
        times.append(
            try await seconds {
                let summary = try await target.import(from: directory, transfer: .direct)
                precondition(summary.imported == count, "imported \(summary.imported) of \(count)")
            })
        try await target.close()
        try FileManager.default.removeItem(at: root)
    }
    return median(times)
}

/// The median of three runs of an import's limit: the same rows (dataset, run membership,
/// artifact record) inserted by raw sqlite3 in one transaction, then `perFile` on every file.
func medianLimit(_ files: [String], name: String, count: Int, perFile: ([String]) -> Void) async -> Double {
    var times: [Double] = []
    for attempt in 0..<3 {
        let database = work.appendingPathComponent("\(name)\(attempt).sqlite3").path
        times.append(
            await seconds {
                let inserted = rawImportRows(database, count)
                precondition(inserted == count, "raw sqlite3 import limit failed")
                perFile(files)
            })
        try? FileManager.default.removeItem(atPath: database)
    }
    return median(times)
}

// Import of that export: registry work and the checksum of each file.
let importSeconds = try await medianImport(exportDirectory, name: "import", count: datasets)
// Its limit reads every file (read(2)): the import checksums each.
let files = try FileManager.default.subpathsOfDirectory(atPath: exportDirectory.path).filter { $0.hasSuffix(".json") }
    .map { exportDirectory.appendingPathComponent($0).path }
let limitSeconds = await medianLimit(files, name: "limit", count: datasets) { files in
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    for file in files { blackHoleRead(file, &buffer) }
}

var dafSeconds: Double?
if let daf {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: daf.python)
    process.arguments = [daf.script, exportDirectory.path, work.appendingPathComponent("daf").path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 0, let text = String(data: output, encoding: .utf8),
        let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "")
    {
        dafSeconds = value
    }
}
row(
    "import \(datasets) datasets (YAML, direct; goal ≥ 50000/s)", rate(datasets, importSeconds),
    String(format: "%.2f s (÷ limit %.2f)", limitSeconds, importSeconds / limitSeconds),
    dafSeconds.map { String(format: "daf_butler %.2f s: %.1f× faster", $0, $0 / importSeconds) } ?? "daf_butler not run")

// The SQLite form of the same export (artifacts hard-linked), imported the same way: no YAML
// tree, and each artifact checked by its size against the file's record instead of read.
let databaseDirectory = work.appendingPathComponent("export-sqlite")
let databaseExportSeconds = try await seconds {
    try await source.export(to: databaseDirectory, collections: ["bench/run"], transfer: .hardlink, format: .sqlite)
}
row("export \(datasets) datasets (SQLite form + hard links)", rate(datasets, databaseExportSeconds), "—", "—")
let databaseImportSeconds = try await medianImport(databaseDirectory, name: "import-sqlite", count: datasets)
// Its limit stats every file (stat(2)): what the import must still do, see that each artifact
// is there at its recorded size.
let linkedFiles = files.map { databaseDirectory.path + $0.dropFirst(exportDirectory.path.count) }
let statSeconds = await medianLimit(linkedFiles, name: "limit-stat", count: datasets) { files in
    var status = stat()
    for file in files { precondition(stat(file, &status) == 0 && status.st_size > 0, "cannot stat \(file)") }
}
row(
    "import \(datasets) datasets (SQLite form, direct; goal ≥ 50000/s)", rate(datasets, databaseImportSeconds),
    String(format: "%.2f s (÷ limit %.2f)", statSeconds, databaseImportSeconds / statSeconds),
    dafSeconds.map { String(format: "daf_butler (YAML) %.2f s: %.1f× faster", $0, $0 / databaseImportSeconds) } ?? "daf_butler not run")

// Transfers between two embedded repositories, copying the artifacts; the statements both
// registries received.
for count in [transferSize / 10, transferSize] {
    let root = work.appendingPathComponent("transfer\(count)")
    try await Butler.createRepository(at: root)
    let dest = try await Butler(repository: root)
    let before = source.registryStatementsSent + dest.registryStatementsSent
    let elapsed = try await seconds {
        let summary = try await dest.transfer(
            from: source, collections: ["bench/run"], where: "visit <= \(count / 100)", registerDatasetTypes: true,
            transferDimensions: true)
        precondition(summary.imported == count, "transferred \(summary.imported), expected \(count)")
    }
    let statements = source.registryStatementsSent + dest.registryStatementsSent - before
    row("transfer \(count) datasets (SQLite → SQLite, copy)", rate(count, elapsed), "\(statements) registry statements", "—")
    try await dest.close()
}

// Verify: every artifact's checksum recomputed, against read(2) of the same files.
let sourceFiles = try FileManager.default.subpathsOfDirectory(atPath: work.appendingPathComponent("source/bench").path)
    .filter { $0.hasSuffix(".json") }.map { work.appendingPathComponent("source/bench/" + $0).path }
var verifyTimes: [Double] = []
var readTimes: [Double] = []
for _ in 0..<3 {
    verifyTimes.append(
        try await seconds {
            let report = try await source.verify()
            precondition(report.isClean && report.checked == datasets, "verify found problems")
        })
    readTimes.append(
        await seconds {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            for file in sourceFiles { blackHoleRead(file, &buffer) }
        })
}
row(
    "verify \(datasets) datasets (checksums)", rate(datasets, median(verifyTimes)),
    String(format: "read(2) %.2f s (÷ limit %.2f)", median(readTimes), median(verifyTimes) / median(readTimes)), "—")
try await source.close()

print("| workload | ours | limit (same run) | daf_butler (same run) |")
print("|---|---|---|---|")
for (name, value, limit, versus) in rows { print("| \(name) | \(value) | \(limit) | \(versus) |") }

/// Reads a whole file with open/read/close.
func blackHoleRead(_ path: String, _ buffer: inout [UInt8]) {
    let descriptor = open(path, O_RDONLY)
    precondition(descriptor >= 0, "cannot open \(path)")
    while read(descriptor, &buffer, buffer.count) > 0 {}
    close(descriptor)
}

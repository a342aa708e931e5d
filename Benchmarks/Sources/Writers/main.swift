// Puts per second with several writer processes on one repository (issue 10, point 2): the
// figure BENCHMARKS.md reports at 1, 2, 8 and 16 processes on SQLite and PostgreSQL. Not a
// harness benchmark: each measurement starts processes, which the harness does not do.
//   swift build -c release --product Writers
//   .build/release/Writers [--postgres URL] [--puts-per-process K] 1 2 8 16
// Prints one line per process count: datasets, seconds, puts/s and the ratio to 1 process.
// Each process puts K small JSON datasets (fsync on) with data IDs of its own into one RUN;
// the run then checks that the registry holds exactly N×K datasets.
import Butler
import Composites
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())

/// One writer process: `Writers child REPOSITORY FIRST-VISIT COUNT`.
if arguments.first == "child" {
    let butler = try await Butler(repository: URL(fileURLWithPath: arguments[1]))
    let firstVisit = Int64(arguments[2])!
    for index in 0..<Int(arguments[3])! {
        try await butler.put(
            ["index": JSONValue.int(Int64(index))], "metrics",
            dataId: ["instrument": "Cam", "visit": .int(firstVisit + Int64(index / 10)), "detector": .int(Int64(index % 10))],
            run: "writers")
    }
    try await butler.close()
    exit(0)
}

var postgres: String?
var putsPerProcess = 200
var counts: [Int] = []
var remaining = arguments[...]
while let argument = remaining.popFirst() {
    switch argument {
    case "--postgres": postgres = remaining.popFirst()
    case "--puts-per-process": putsPerProcess = Int(remaining.popFirst() ?? "") ?? putsPerProcess
    default: counts.append(Int(argument)!)
    }
}
if counts.isEmpty { counts = [1, 2, 8, 16] }
let engine = postgres == nil ? "sqlite" : "postgresql"
let visitsPerProcess = (putsPerProcess + 9) / 10
let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

var single: Double?
for processes in counts {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("butler-writers-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var config = RepositoryConfig.defaultConfig()
    if let postgres {
        config = .defaultConfig(database: postgres, namespace: "writers_" + UUID().uuidString.prefix(8).lowercased())
    }
    try await Butler.createRepository(at: directory, config: config)
    let butler = try await Butler(repository: directory)
    try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
    try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
    try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
    try await butler.insertDimensionRecords("detector", (0..<10).map { ["instrument": "Cam", "id": .int(Int64($0))] })
    try await butler.insertDimensionRecords(
        "visit",
        (0..<(processes * visitsPerProcess)).map {
            ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122]
        })
    try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
    _ = try await butler.registerRun("writers")
    let start = Date()
    let children = try (0..<processes).map { index in
        let process = Process()
        process.executableURL = executable
        process.arguments = ["child", directory.path, String(index * visitsPerProcess), String(putsPerProcess)]
        try process.run()
        return process
    }
    var failures = 0
    for child in children {
        child.waitUntilExit()
        if child.terminationStatus != 0 { failures += 1 }
    }
    let seconds = Date().timeIntervalSince(start)
    let stored = try await butler.queryDatasets(["metrics"], collections: ["writers"]).count
    try await butler.close()
    let expected = processes * putsPerProcess
    let rate = Double(stored) / seconds
    if processes == 1 { single = rate }
    let scaling = single.map { String(format: "%.2f", rate / $0) } ?? "—"
    print(
        "writers \(engine): \(processes) processes, \(stored)/\(expected) datasets, \(failures) failed processes, "
            + String(format: "%.2f s, %.0f puts/s", seconds, rate) + ", × 1 process: \(scaling)")
    if stored != expected || failures > 0 { exit(1) }
}

// A loop over one hot path, for `perf record` or `valgrind --tool=callgrind`: the benchmark
// harness runs its targets under a supervisor process, which profilers do not follow well.
//   swift build -c release --product Profile
//   perf record -g .build/release/Profile query-all 2000
// Operations: put, get-dataid, get-ref, query-all, concurrentN (N tasks doing gets), json-read
// (the JSON formatter alone), and on the Images benchmark's files: fits-cutout, fits-full,
// bare-full, butler-cutout, butler-full, butler-wcs, fits-wcs (the formatter's component read),
// and temporal-join on the Discovery benchmark's calibration repository; region-insert (N
// visit_detector_region records with polygon regions into a new SQLite repository, by 1000);
// register-hsc (HSC's rings skymap into a new SQLite repository, after its geometry alone);
// register-field (200 HSC-sized tracts; PostgreSQL with BUTLER_PROFILE_POSTGRES_URL).
import Butler
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps

let arguments = CommandLine.arguments
let operation = arguments.count > 1 ? arguments[1] : "query-all"
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000

// Image operations read the files the Images benchmark writes (run it once first).
let images = "/tmp/butler-bench-images-v5"
if let imageOperation = ImageOperation(rawValue: operation) {
    let seconds = try await imageOperation.run(iterations: iterations, directory: images)
    print("\(operation): \(iterations) iterations, \(String(format: "%.1f", seconds / Double(iterations) * 1e6)) µs each")
    exit(0)
}

// The bindings rows' three Swift calls (Benchmarks/Benchmarks/Bindings made the repository) from a
// plain process, as the C ABI's and the Python package's callers make them: same data IDs and
// cutout positions as bindings_bench.py, p50 of each.
if operation == "bindings" {
    let butler = try await Butler(
        repository: URL(fileURLWithPath: "/tmp/butler-bench-bindings-v1/repo"), collections: ["bench"], writeable: false)
    func p50(_ count: Int, _ body: (Int) async throws -> Void) async rethrows -> Duration {
        for index in 0..<10 { try await body(index) }
        var samples: [Duration] = []
        for index in 0..<count {
            let start = ContinuousClock.now
            try await body(index)
            samples.append(ContinuousClock.now - start)
        }
        return samples.sorted()[count / 2]
    }
    let calexp: DataId = ["instrument": "Cam", "visit": 0, "detector": 0]
    let get = try await p50(iterations) { index in
        let slot = (index * 7919) % 1000
        _ = try await butler.get(
            "metrics", dataId: ["instrument": "Cam", "visit": .int(Int64(slot / 10)), "detector": .int(Int64(slot % 10))])
    }
    let component = try await p50(iterations) { _ in _ = try await butler.get("calexp.wcs", dataId: calexp) }
    let cutout = try await p50(iterations / 4) { index in
        let x = Int64((index * 613) % (4096 - 256)), y = Int64((index * 977) % (4096 - 256))
        _ = try await butler.get("calexp", dataId: calexp, parameters: ["bbox": [.int(x), .int(y), .int(x + 255), .int(y + 255)]])
    }
    print("bindings, plain process, p50: get by data ID \(get), component \(component), cutout \(cutout)")
    exit(0)
}

// The JSON formatter alone on one small file, as get by ref reads it.
if operation == "json-read" {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("butler-profile-\(UUID().uuidString).json")
    try Data(#"{"background":1000.5}"#.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let storageClass = try StorageClassRegistry().storageClass(named: "StructuredDataDict")
    let formatter = JSONFormatter()
    var sink = 0
    let start = ContinuousClock.now
    for _ in 0..<iterations {
        sink &+= try formatter.read([String: Double].self, from: file, storageClass: storageClass, parameters: [:]).count
    }
    print("\(operation): \(iterations) iterations, \((ContinuousClock.now - start) / iterations) each (sink \(sink))")
    exit(0)
}

// Region records: each parsed, its htm7 envelope written to the overlap table.
if operation == "region-insert" {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("butler-profile-regions-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try await Butler.createRepository(at: root, config: .defaultConfig())
    let butler = try await Butler(repository: root)
    try await butler.insertDimensionRecords("instrument", [["name": "Cam", "detector_max": 1000, "visit_max": 1_000_000]])
    try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
    try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20260101]])
    try await butler.insertDimensionRecords("detector", (0..<1000).map { ["instrument": "Cam", "id": .int(Int64($0))] })
    let visits = max(1, iterations / 1000)
    try await butler.insertDimensionRecords(
        "visit",
        (0..<visits).map {
            ["instrument": "Cam", "id": .int(Int64($0)), "name": .string("v\($0)"), "physical_filter": "Cam-r", "day_obs": 20260101]
        })
    let records: [[[String: JSONValue]]] = (0..<visits).map { visit in
        (0..<1000).map { detector in
            let ra = Double(visit % 1000) * 0.36 + Double(detector % 20) * 0.2, dec = -60 + Double(detector / 20) * 0.2
            let corners = [(ra, dec), (ra + 0.19, dec), (ra + 0.19, dec + 0.19), (ra, dec + 0.19)]
            let region = "POLYGON " + corners.map { "\($0.0) \($0.1)" }.joined(separator: " ")
            return ["instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector)), "region": .string(region)]
        }
    }
    let start = ContinuousClock.now
    for batch in records { try await butler.insertDimensionRecords("visit_detector_region", batch) }
    print("\(operation): \(visits * 1000) records, \((ContinuousClock.now - start) / (visits * 1000)) each")
    try await butler.close()
    exit(0)
}

// HSC's rings skymap: the geometry (tracts, patch polygons, htm7 envelopes) alone, then the
// whole registration into a new SQLite repository.
if operation == "register-hsc" {
    let skymap = try SkyMap(.hscRings)
    let htm = try HTMPixelization(level: 7)
    var start = ContinuousClock.now
    var pixels = 0, patches = 0
    for id in 0..<skymap.tractCount {
        let tract = try skymap.tract(id)
        pixels += Int(htm.envelope(try tract.outerRegion).cardinality)
        for patch in tract.patches {
            let region = try patch.outerRegion
            blackHoleString(region.base64)
            pixels += Int(htm.envelope(region).cardinality)
            patches += 1
        }
    }
    print(
        "\(operation): geometry of \(skymap.tractCount) tracts, \(patches) patches, \(pixels) overlap rows in \(ContinuousClock.now - start)"
    )
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("butler-profile-skymap-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try await Butler.createRepository(at: root, config: .defaultConfig())
    let butler = try await Butler(repository: root)
    start = ContinuousClock.now
    let result = try await butler.registerSkyMap("hsc_rings_v1", skymap)
    print("\(operation): registered \(result.tracts) tracts, \(result.patches) patches in \(ContinuousClock.now - start)")
    try await butler.close()
    exit(0)
}

// 200 HSC-sized tracts (16,200 patches) registered into a new repository: SQLite, or
// PostgreSQL when BUTLER_PROFILE_POSTGRES_URL names a server (a namespace of its own per run).
if operation == "register-field" {
    var centres: [(ra: Double, dec: Double, radius: Double)] = []
    for index in 0..<200 { centres.append((10 + 1.5 * Double(index % 20), -10 + 1.5 * Double(index / 20), 0.7438)) }
    let skymap = try SkyMap(.discrete(tracts: centres, projection: .gnomonic, pixelScale: 0.168, tractOverlap: 1.0 / 60))
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("butler-profile-field-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let postgres = ProcessInfo.processInfo.environment["BUTLER_PROFILE_POSTGRES_URL"]
    let namespace = "profile_" + UUID().uuidString.prefix(8).lowercased()
    try await Butler.createRepository(
        at: root, config: postgres.map { .defaultConfig(database: $0, namespace: namespace) } ?? .defaultConfig())
    let butler = try await Butler(repository: root)
    let start = ContinuousClock.now
    let result = try await butler.registerSkyMap("field", skymap)
    print(
        "\(operation) (\(postgres == nil ? "sqlite" : "postgresql")): \(result.tracts) tracts, \(result.patches) patches in \(ContinuousClock.now - start)"
    )
    try await butler.close()
    exit(0)
}

@inline(never) func blackHoleString(_ value: String) { if value.isEmpty { print("") } }

// The Discovery benchmark's temporal join, on its repository (run that benchmark once first).
if operation == "temporal-join" {
    let calibrations = try await Butler(
        repository: URL(fileURLWithPath: "/tmp/butler-bench-discovery-v2/calibrations"), writeable: false)
    let start = ContinuousClock.now
    var sink = 0
    for _ in 0..<iterations {
        let queried = ContinuousClock.now
        var matches = try await calibrations.findCalibrations(
            "bias", for: ["exposure", "detector"], collections: ["calib"],
            where: "instrument = 'Cam' AND exposure.observation_type = 'science'")
        let returned = ContinuousClock.now
        sink &+= matches.count
        matches = []
        print("  query \(returned - queried), release \(ContinuousClock.now - returned) (\(matches.count))")
    }
    print("\(operation): \(iterations) iterations, \((ContinuousClock.now - start) / iterations) each (sink \(sink))")
    exit(0)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("butler-profile-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: directory) }
try await Butler.createRepository(at: directory)
let butler = try await Butler(repository: directory, collections: ["data"], run: "data")
try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
try await butler.insertDimensionRecords("detector", (0..<10).map { ["instrument": "Cam", "id": .int(Int64($0))] })
try await butler.insertDimensionRecords(
    "visit",
    (0..<100).map {
        ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122]
    })
try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
var refs: [DatasetRef] = []
for visit in 0..<100 {
    for detector in 0..<10 {
        refs.append(
            try await butler.put(
                ["background": JSONValue.double(1000.5)], "metrics",
                dataId: ["instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
    }
}
/// The measured loop runs off the main actor, as pipeline code would: top-level code is
/// main-actor isolated and every await would hop back to it.
@Sendable func measure(_ butler: Butler, _ refs: [DatasetRef]) async throws -> Int {
    var sink = 0
    for index in 0..<iterations {
        switch operation {
        case "query-all": sink &+= try await butler.queryDatasets(["metrics"]).count
        case "get-ref": sink &+= (try await butler.get(refs[index % refs.count], as: [String: Double].self)).count
        case "get-dataid":
            let ref = refs[index % refs.count]
            sink &+= (try await butler.get("metrics", dataId: ref.dataId.requiredMapping, as: [String: Double].self)).count
        case "put":
            try await butler.put(
                ["background": JSONValue.double(1.5)], "metrics",
                dataId: ["instrument": "Cam", "visit": .int(Int64(index % 100)), "detector": .int(Int64(index / 100 % 10))],
                run: "put/\(index / 1000)")
            sink &+= 1
        default:
            fatalError("unknown operation \(operation): query-all, get-ref, get-dataid, put, concurrentN")
        }
    }
    return sink
}
if operation.hasPrefix("concurrent") {
    // concurrentN: `iterations` gets by data ID spread over N tasks.
    let tasks = Int(operation.dropFirst("concurrent".count)) ?? 2
    let frozenRefs = refs
    let begin = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<tasks {
            group.addTask {
                for index in stride(from: task, to: iterations, by: tasks) {
                    let ref = frozenRefs[index % frozenRefs.count]
                    _ = try await butler.get("metrics", dataId: ref.dataId.requiredMapping, as: [String: Double].self)
                }
            }
        }
        try await group.waitForAll()
    }
    print("\(operation): \(iterations) gets in \(ContinuousClock.now - begin)")
    try await butler.close()
    exit(0)
}
let start = ContinuousClock.now
let frozen = refs
let sink = try await Task.detached { try await measure(butler, frozen) }.value
let elapsed = ContinuousClock.now - start
print("\(operation): \(iterations) iterations, \(elapsed / iterations) each (sink \(sink))")
try await butler.close()

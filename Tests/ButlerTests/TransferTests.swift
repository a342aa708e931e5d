import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// `transfer-datasets` (issue 15 point 2): datasets move between repositories on any registry
/// engine and any two datastores (POSIX → S3 → POSIX against the real S3 server) with their
/// IDs, runs, records and bytes; what the destination has is skipped; a missing dataset type
/// or record is refused unless asked to bring it, and nothing is half-done.
@Suite("Transferring datasets between repositories", .serialized)
struct TransferTests {
    static var cases: [(Backend, DatastoreBackend)] {
        Backend.available.flatMap { engine in DatastoreBackend.available.filter { $0.name != "chained" }.map { (engine, $0) } }
    }

    @Test("datasets, runs, records and artifacts travel with their IDs; a re-run skips them", arguments: cases)
    func transfer(backend: Backend, datastore: DatastoreBackend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        try await TestRepository.create(in: sourceRoot, backend: backend)
        let source = try await Butler(repository: sourceRoot, run: "run/a")
        try await TestRepository.insertInstrument(source, visits: 3, detectors: 2)
        try await source.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for visit in 1...3 {
            for detector in 0..<2 {
                refs.append(
                    try await source.put(
                        ["visit": .int(Int64(visit)), "detector": .int(Int64(detector))] as [String: JSONValue], "metrics",
                        dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
            }
        }
        // The destination: the other datastore (S3 when the server runs), the same engine.
        let destRoot = work.url.appendingPathComponent("dest")
        try await TestRepository.create(in: destRoot, backend: backend) { datastore.configure(&$0, destRoot) }
        let dest = try await Butler(repository: destRoot)

        // Without the dataset type or the records, refused; nothing is left behind.
        let noType = await #expect(throws: ButlerError.self) { try await dest.transfer(from: source, collections: ["run/a"]) }
        #expect("\(noType!)".contains("metrics") && "\(noType!)".contains("register"), "\(String(describing: noType))")
        let noRecords = await #expect(throws: ButlerError.self) {
            try await dest.transfer(from: source, collections: ["run/a"], registerDatasetTypes: true)
        }
        #expect(noRecords != nil)
        let leftCollections = try await dest.collections()
        let leftTypes = try await dest.datasetTypes()
        #expect(leftCollections.isEmpty && leftTypes.isEmpty)

        let summary = try await dest.transfer(
            from: source, collections: ["run/a"], where: "visit < 3", registerDatasetTypes: true, transferDimensions: true)
        #expect(summary.imported == 4 && summary.alreadyPresent == 0)
        for ref in refs where (ref.dataId["visit"].map { $0 < 3 } ?? false) {
            let copied = try #require(try await dest.dataset(id: ref.id))
            #expect(copied.run == ref.run && copied.dataId.required.map(\.value) == ref.dataId.required.map(\.value))
            let expected = try await source.get(ref, as: [String: JSONValue].self)
            #expect(try await dest.get(copied, as: [String: JSONValue].self) == expected)
        }
        // Again with the rest: the four already there are skipped, two more come.
        let again = try await dest.transfer(from: source, collections: ["run/a"], registerDatasetTypes: true, transferDimensions: true)
        #expect(again.imported == 2 && again.alreadyPresent == 4)

        // And back out of it to a third repository on POSIX: any two datastores.
        let thirdRoot = work.url.appendingPathComponent("third")
        try await TestRepository.create(in: thirdRoot, backend: backend)
        let third = try await Butler(repository: thirdRoot)
        #expect(
            try await third.transfer(from: dest, collections: ["*"], registerDatasetTypes: true, transferDimensions: true).imported == 6)
        #expect(try await third.queryDatasets(["metrics"], collections: ["run/a"]).count == 6)
        await #expect(throws: ButlerError.self) { try await third.transfer(from: source, transfer: .move) }
        for butler in [source, dest, third] { try await butler.close() }
    }
}

/// The registry statements of a transfer grow with the dimension records it touches, not
/// with its datasets: look-ups and inserts go out in batches.
@Suite("Transfer statement counts")
struct TransferStatementTests {
    @Test(
        "ten times the datasets, over the same records or bringing ten times the records, costs a handful more statements",
        arguments: Backend.available)
    func statementsDoNotGrowWithDatasets(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        let source = try await TestRepository.metricsRepository(sourceRoot, backend: backend, visits: 10, detectors: 10)
        var costs: [Int] = []
        for (index, expression) in ["visit = 1", "visit >= 1"].enumerated() {
            let destRoot = work.url.appendingPathComponent("dest\(index)")
            try await TestRepository.create(in: destRoot, backend: backend)
            let dest = try await Butler(repository: destRoot)
            try await TestRepository.insertInstrument(dest, visits: 10, detectors: 10)
            let before = source.registryStatementsSent + dest.registryStatementsSent
            let summary = try await dest.transfer(from: source, collections: ["run/a"], where: expression, registerDatasetTypes: true)
            costs.append(source.registryStatementsSent + dest.registryStatementsSent - before)
            #expect(summary.imported == (index == 0 ? 10 : 100))
            try await dest.close()
        }
        // 90 more datasets touch 9 more visit records, looked up together with the others.
        #expect(costs[1] - costs[0] <= 10, "statements for 10 and 100 datasets: \(costs)")

        // Into empty repositories, with the records: ten times the datasets and the visit
        // records they need cost no more statements either (records go in many a statement).
        var withRecords: [Int] = []
        for (index, expression) in ["visit = 1", "visit >= 1"].enumerated() {
            let destRoot = work.url.appendingPathComponent("empty\(index)")
            try await TestRepository.create(in: destRoot, backend: backend)
            let dest = try await Butler(repository: destRoot)
            let before = source.registryStatementsSent + dest.registryStatementsSent
            let summary = try await dest.transfer(
                from: source, collections: ["run/a"], where: expression, registerDatasetTypes: true, transferDimensions: true)
            withRecords.append(source.registryStatementsSent + dest.registryStatementsSent - before)
            #expect(summary.imported == (index == 0 ? 10 : 100))
            #expect(try await dest.dimensionRecords("visit").count == (index == 0 ? 1 : 10))
            try await dest.close()
        }
        #expect(withRecords[1] - withRecords[0] <= 10, "statements for 10 and 100 datasets with their records: \(withRecords)")
        try await source.close()
    }
}

/// `butler verify --against` (issue 15 point 4): two repositories compared dataset by dataset.
@Suite("Comparing repositories")
struct CompareTests {
    @Test(
        "a transferred copy compares clean; a changed byte, a dataset on one side and one ID for two datasets are named",
        arguments: Backend.available)
    func compare(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let roots = ["a", "b"].map { work.url.appendingPathComponent($0) }
        try await TestRepository.create(in: roots[0], backend: backend)
        // The copy checksums with SHA-256, the original with CRC-32C: bytes are compared anyway.
        try await TestRepository.create(in: roots[1], backend: backend) { $0.datastore.checksum = .sha256 }
        let here = try await Butler(repository: roots[0], run: "run/a")
        try await TestRepository.insertInstrument(here, visits: 2, detectors: 2)
        try await here.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for visit in 1...2 {
            for detector in 0..<2 {
                refs.append(
                    try await here.put(
                        ["v": .int(Int64(visit * 10 + detector))] as [String: JSONValue], "metrics",
                        dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
            }
        }
        let there = try await Butler(repository: roots[1], run: "run/a")
        try await there.transfer(from: here, collections: ["run/a"], registerDatasetTypes: true, transferDimensions: true)
        let clean = try await here.compare(with: there)
        #expect(clean.isClean && clean.compared == 4, "\(clean)")

        // One artifact rewritten there, one dataset only here, one put twice with two IDs.
        let file = try #require(try await there.artifactURLs(refs[0]).first)
        try Data(#"{"v": 99}"#.utf8).write(to: file)
        try await there.pruneDatasets([refs[1]], purge: true)
        try await there.pruneDatasets([refs[2]], purge: true)
        try await there.put(["v": 21] as [String: JSONValue], "metrics", dataId: ["instrument": "HSC", "visit": 2, "detector": 0])
        let report = try await here.compare(with: there)
        #expect(!report.isClean && report.compared == 2)
        #expect(report.differences.map(\.what).sorted() == ["ID", "checksum"], "\(report.differences)")
        #expect(report.onlyHere.count == 1 && report.onlyHere[0].contains(refs[1].id.uuidString.lowercased()))
        #expect(report.onlyThere.isEmpty)
        try await here.close()
        try await there.close()
    }
}

/// `butler subset` (issue 15 point 3) on both engines: a `src` subset carries the
/// `calexp.photoCalib` it binds (not the calexp's pixels), the bias valid at its visit's time,
/// the records and the chain; it verifies clean and calibrates its catalog as the source does.
@Suite("Standalone subsets")
struct SubsetTests {
    @Test("a src subset brings its bound photoCalib, its calibration and its chain, and nothing else", arguments: Backend.available)
    func boundComponentsAndCalibrations(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        try await TestRepository.create(in: sourceRoot, backend: backend)
        let source = try await Butler(repository: sourceRoot)
        try await source.insertDimensionRecords("instrument", [["name": "HSC", "detector_max": 200, "visit_max": 1000]])
        try await source.insertDimensionRecords("physical_filter", [["instrument": "HSC", "name": "HSC-I", "band": "i"]])
        try await source.insertDimensionRecords("day_obs", [["instrument": "HSC", "id": 20261122]])
        try await source.insertDimensionRecords(
            "detector", (0..<2).map { ["instrument": "HSC", "id": .int(Int64($0)), "full_name": .string("ccd\($0)")] })
        try await source.insertDimensionRecords(
            "visit",
            (1...2).map { visit in
                [
                    "instrument": "HSC", "id": .int(Int64(visit)), "name": .string("v\(visit)"), "physical_filter": "HSC-I",
                    "day_obs": 20261122,
                    "timespan": ["begin": .string("2026-11-23T0\(visit):00:00"), "end": .string("2026-11-23T0\(visit):00:30")],
                ]
            })
        try await source.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        try await source.registerDatasetType("src", dimensions: ["visit", "detector"], storageClass: "SourceCatalog")
        try await source.registerDatasetType("bias", dimensions: ["detector"], storageClass: "StructuredDataDict", isCalibration: true)
        let catalog = try SourceCatalog(columns: ["x": [1, 2], "psfFlux_instFlux": [100, 300], "psfFlux_instFluxErr": [10, 10]])
        var calexps: [Int: DatasetRef] = [:]
        for visit in 1...2 {
            for detector in 0..<2 {
                let dataId: DataId = ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
                var calexp = try makeCalexp()
                calexp.photoCalib = PhotoCalib(calibrationMean: Double(visit * 10 + detector), calibrationErr: 0.1)
                let ref = try await source.put(calexp, "calexp", dataId: dataId, run: "proc/calexp")
                if detector == 0 { calexps[visit] = ref }
                try await source.put(catalog, "src", dataId: dataId, run: "proc/src")
            }
        }
        // Two biases for detector 0, each valid during one visit.
        _ = try await source.registerCollection("calib", type: .calibration)
        for visit in 1...2 {
            let bias = try await source.put(
                ["level": .int(Int64(visit))] as [String: JSONValue], "bias", dataId: ["instrument": "HSC", "detector": 0],
                run: "calib/bias\(visit)")
            try await source.certify(
                [bias], collection: "calib",
                timespan: try Timespan(
                    begin: AstroTime(value: "2026-11-23T0\(visit):00:00", scale: .tai),
                    end: AstroTime(value: "2026-11-23T0\(visit):30:00", scale: .tai)))
        }
        try await source.setCollectionChain("proc", children: ["proc/src", "proc/calexp"])

        let destRoot = work.url.appendingPathComponent("subset")
        let searched = ["proc", "calib"]
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 0]
        let summary = try await source.subset(to: destRoot, datasetTypes: ["src"], collections: searched, dataIds: [dataId])
        #expect(summary.datasets == 1 && summary.boundComponents == 1 && summary.calibrations == 1 && summary.componentDatasets == 0)

        let subset = try await Butler(repository: destRoot)
        #expect(try await subset.verify().isClean)
        // The catalog calibrates as in the source, from a standalone calexp.photoCalib.
        let expected = try await source.get("src", dataId: dataId, collections: searched, as: CalibratedCatalog.self)
        #expect(try await subset.get("src", dataId: dataId, collections: searched, as: CalibratedCatalog.self) == expected)
        #expect(expected.photoCalib.calibrationMean == 10)
        let photoCalib = try #require(try await subset.findDataset("calexp.photoCalib", dataId: dataId, collections: searched))
        #expect(photoCalib.run == "proc/calexp" && photoCalib.id == DatasetIdFactory.uuid5(namespace: calexps[1]!.id, name: "photoCalib"))
        // No pixels: no calexp at all; only visit 1's bias, found by time; the chain as it was.
        #expect(Set(try await subset.datasetTypes().map(\.name)) == ["src", "calexp.photoCalib", "bias"])
        let biases = try await subset.queryDatasets(["bias"], collections: ["*"])
        #expect(biases.map(\.run) == ["calib/bias1"])
        #expect(try await subset.get("bias", dataId: dataId, collections: searched, as: [String: JSONValue].self) == ["level": 1])
        #expect(try await subset.collections(matching: ["proc"]).first?.children == ["proc/src", "proc/calexp"])
        #expect(try await subset.queryDatasets(["src"], collections: ["*"]).count == 1)

        // Bad requests change nothing and name what is wrong.
        let taken = await #expect(throws: ButlerError.self) {
            try await source.subset(to: destRoot, datasetTypes: ["src"], collections: searched, dataIds: [dataId])
        }
        #expect("\(taken!)".contains(destRoot.path))
        let empty = work.url.appendingPathComponent("empty")
        let nothing = await #expect(throws: ButlerError.self) {
            try await source.subset(to: empty, datasetTypes: ["src"], collections: searched, where: "visit = 7")
        }
        #expect("\(nothing!)".contains("nothing to subset") && !FileManager.default.fileExists(atPath: empty.path))
        await #expect(throws: ButlerError.self) { try await source.subset(to: empty, datasetTypes: ["nosuch"], collections: searched) }
        try await subset.close()
        try await source.close()
    }
}

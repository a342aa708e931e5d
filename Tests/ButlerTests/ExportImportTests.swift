import ButlerTestSupport
import ButlerZip
import Composites
import Foundation
import Sky
import Synchronization
import Testing

@testable import Butler

#if canImport(Glibc)
import Glibc
#endif

/// Export and import in daf_butler's YAML format, both ways against the real daf_butler
/// (`Tests/Interop/export_import.py`): a repository daf_butler exports imports here with the
/// same IDs, values, collections, memberships and records; one exported here imports into
/// daf_butler the same way. Imports are all or nothing and safe to run again.
@Suite("Export and import, daf_butler's format", .serialized)
struct ExportImportTests {
    /// What `export_import.py` prints about a repository as daf_butler sees it.
    struct Summary: Decodable {
        struct Dataset: Decodable {
            let id: String
            let datasetType: String
            let run: String
            let dataId: [String: DataIdValue]
            let value: [String: JSONValue]
        }
        struct Collection: Decodable {
            let type: String
            let children: [String]?
            let members: [String]?
            let ranges: [[String?]]?
        }
        struct Visit: Decodable {
            let id: Int
            let begin: String?
            let end: String?
            let region: String?
        }
        let datasets: [Dataset]
        let collections: [String: Collection]
        let visits: [Visit]
    }

    /// The same summary of a repository here.
    static func summary(_ butler: Butler) async throws -> Summary {
        let refs = Dictionary(try await butler.queryDatasets([], collections: ["*"]).map { ($0.id, $0) }) { first, _ in first }
        var datasets: [Summary.Dataset] = []
        for ref in refs.values.sorted(by: { $0.id.uuidString.lowercased() < $1.id.uuidString.lowercased() }) {
            datasets.append(
                .init(
                    id: ref.id.uuidString.lowercased(), datasetType: ref.datasetType.name, run: ref.run,
                    dataId: Dictionary(uniqueKeysWithValues: ref.dataId.required.map { ($0.name, $0.value) }),
                    value: try await butler.get(ref, as: [String: JSONValue].self)))
        }
        var collections: [String: Summary.Collection] = [:]
        for info in try await butler.collections() {
            var members: [String]?
            var ranges: [[String?]]?
            if info.type == .tagged {
                members = try await butler.queryDatasets([], collections: [info.name]).map { $0.id.uuidString.lowercased() }.sorted()
            }
            if info.type == .calibration {
                ranges = try await butler.queryDatasetAssociations("bias", collections: [info.name]).map { association in
                    [
                        association.ref.id.uuidString.lowercased(), association.timespan?.begin?.isot(fractionDigits: 0),
                        association.timespan?.end?.isot(fractionDigits: 0),
                    ]
                }.sorted { $0[0]! < $1[0]! }
            }
            collections[info.name] = .init(
                type: info.type.rawValue, children: info.type == .chained ? info.children : nil, members: members, ranges: ranges)
        }
        let visits = try await butler.dimensionRecords("visit").map { record -> Summary.Visit in
            func time(_ field: String) -> String? {
                guard case .int(let nanoseconds) = record[field] else { return nil }
                return AstroTime(taiNanoseconds: nanoseconds).isot(fractionDigits: 0)
            }
            var region: String?
            if case .string(let text) = record["region"] {
                region = (try? Region(base64: text))?.encoded.map { String(format: "%02x", $0) }.joined()
            }
            guard case .int(let id) = record["id"] else { return Summary.Visit(id: -1, begin: nil, end: nil, region: nil) }
            return .init(id: Int(id), begin: time("timespan_begin"), end: time("timespan_end"), region: region)
        }
        return Summary(datasets: datasets, collections: collections, visits: visits.sorted { $0.id < $1.id })
    }

    static func expectSame(_ ours: Summary, _ theirs: Summary, _ context: String) {
        #expect(ours.datasets.map(\.id) == theirs.datasets.map(\.id), "\(context): dataset IDs")
        for (a, b) in zip(ours.datasets, theirs.datasets) {
            #expect(a.datasetType == b.datasetType && a.run == b.run && a.dataId == b.dataId, "\(context): \(a.id)")
            #expect(a.value == b.value, "\(context): value of \(a.id): \(a.value) vs \(b.value)")
        }
        #expect(Set(ours.collections.keys) == Set(theirs.collections.keys), "\(context): collections")
        for (name, a) in ours.collections {
            guard let b = theirs.collections[name] else { continue }
            #expect(a.type == b.type && a.children == b.children && a.members == b.members, "\(context): collection \(name)")
            #expect(
                a.ranges == b.ranges, "\(context): ranges of \(name): \(String(describing: a.ranges)) vs \(String(describing: b.ranges))")
        }
        // Records travel with the datasets that need them: visits no dataset names stay behind.
        let visits = ours.visits.filter { visit in theirs.visits.contains { $0.id == visit.id } }
        #expect(visits.map(\.id) == theirs.visits.map(\.id) && !visits.isEmpty, "\(context): visits")
        for (a, b) in zip(visits, theirs.visits) {
            #expect(a.begin == b.begin && a.end == b.end && a.region == b.region, "\(context): visit \(a.id)")
        }
    }

    @Test("a repository daf_butler exports imports here with the same IDs, values, collections and records", arguments: Backend.available)
    func importDafButlerExport(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let theirs = try JSONDecoder().decode(Summary.self, from: try ReferencePython.run("export_import.py", ["export", work.url.path]))
        let export = work.url.appendingPathComponent("export")
        let root = work.url.appendingPathComponent("ours")
        try await TestRepository.create(in: root, backend: backend)
        let butler = try await Butler(repository: root)
        let summary = try await butler.import(from: export)
        #expect(summary.imported == theirs.datasets.count && summary.alreadyPresent == 0)
        Self.expectSame(try await Self.summary(butler), theirs, "daf_butler → here")
        // The calibration is found by time, as certified there.
        let bias = try await butler.get(
            "bias", dataId: ["instrument": "HSC", "detector": 1], collections: ["chain"],
            timespan: try .instant(try AstroTime(value: "2013-11-05T00:00:00", scale: .tai)), as: [String: JSONValue].self)
        #expect(bias == ["bias": 1])
        // Again: nothing changes, nothing fails.
        let again = try await butler.import(from: export)
        #expect(again.imported == 0 && again.alreadyPresent == theirs.datasets.count)
        try await butler.close()
    }

    @Test("a repository exported here imports into daf_butler the same", arguments: Backend.available)
    func exportToDafButler(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let root = work.url.appendingPathComponent("ours")
        try await TestRepository.create(in: root, backend: backend)
        let butler = try await Butler(repository: root, run: "run/a")
        try await TestRepository.insertInstrument(butler, visits: 2, detectors: 2)
        // A visit with a timespan and a region, and its detectors' regions.
        let polygon = try Region(
            encoded: Array(
                Data(
                    base64Encoded:
                        "cCdoHYkosuu/ZgW/eAL73z8n3PfJWN6hP1U1C3ZnwOu/k7R0E3bJ3z8n3PfJWN6hP2s17DhiuOu/4qULBTTh3z+SJTEhkaejPw==")!))
        let begin = try AstroTime(value: "2013-11-02T10:00:00", scale: .tai).taiNanoseconds
        try await butler.insertDimensionRecords(
            "visit",
            [
                [
                    "instrument": "HSC", "id": 42, "name": "v42", "physical_filter": "HSC-I", "day_obs": 20131102,
                    "timespan_begin": .int(begin), "timespan_end": .int(begin + 30_000_000_000), "region": .string(polygon.base64),
                ]
            ])
        try await butler.insertDimensionRecords(
            "visit_detector_region",
            [0, 1].map { ["instrument": "HSC", "visit": 42, "detector": .int($0), "region": .string(polygon.base64)] })
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType(
            "bias", dimensions: ["instrument", "detector"], storageClass: "StructuredDataDict", isCalibration: true)
        var metrics: [DatasetRef] = []
        for detector in [0, 1] {
            metrics.append(
                try await butler.put(
                    ["detector": .int(Int64(detector)), "seeing": .double(0.5 + Double(detector) / 10), "band": "i"] as [String: JSONValue],
                    "metrics", dataId: ["instrument": "HSC", "visit": 42, "detector": .int(Int64(detector))]))
        }
        let biases = try await [0, 1].asyncMap { detector in
            try await butler.put(
                ["bias": .int(Int64(detector))] as [String: JSONValue], "bias",
                dataId: ["instrument": "HSC", "detector": .int(Int64(detector))],
                run: "calib/run")
        }
        try await butler.registerCollection("calib", type: .calibration)
        try await butler.certify(
            biases, collection: "calib", timespan: try Timespan(begin: try AstroTime(value: "2013-11-01T00:00:00", scale: .tai), end: nil))
        try await butler.setCollectionChain("chain", children: ["run/a", "calib"])
        try await butler.associate("tag", [metrics[0]])

        let directory = work.url.appendingPathComponent("export")
        let export = try await butler.export(to: directory, collections: ["chain", "tag"])
        #expect(export.datasetCount == 4)
        #expect(export.dimensions.map(\.element).contains("visit_detector_region"))
        let theirs = try JSONDecoder().decode(
            Summary.self, from: try ReferencePython.run("export_import.py", ["import", directory.path, work.url.path]))
        Self.expectSame(try await Self.summary(butler), theirs, "here → daf_butler")
        // Read back here too, into another repository.
        let copy = work.url.appendingPathComponent("copy")
        try await TestRepository.create(in: copy, backend: backend)
        let other = try await Butler(repository: copy)
        try await other.import(from: directory)
        Self.expectSame(try await Self.summary(other), theirs, "here → here")
        // An export file is never overwritten.
        await #expect(throws: ButlerError.self) { try await butler.export(to: directory, collections: ["chain"]) }
        try await other.close()

        // The SQLite form carries the same: records with timespans and regions, chains,
        // TAGGED and CALIBRATION memberships with their ranges.
        let database = work.url.appendingPathComponent("export-sqlite")
        try await butler.export(to: database, collections: ["chain", "tag"], format: .sqlite)
        #expect(ExportDatabase.isDatabase(database.appendingPathComponent("export.sqlite3")))
        let fromDatabase = work.url.appendingPathComponent("from-sqlite")
        try await TestRepository.create(in: fromDatabase, backend: backend)
        let third = try await Butler(repository: fromDatabase)
        #expect(try await third.import(from: database).imported == 4)
        Self.expectSame(try await Self.summary(third), theirs, "here → here (SQLite form)")
        #expect(try await third.import(from: database).alreadyPresent == 4)
        try await third.close()
        try await butler.close()
    }

    @Test("the SQLite form is checked by size without reading artifacts, and names what is wrong", arguments: Backend.available)
    func sqliteForm(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        let source = try await TestRepository.metricsRepository(sourceRoot, backend: backend, visits: 2, detectors: 3)
        let refs = try await source.queryDatasets(["metrics"], collections: ["run/a"], where: "visit = 1 AND detector = 0")
        let directory = work.url.appendingPathComponent("export")
        let export = try await source.export(to: directory, collections: ["run/a"], format: .sqlite)
        try await source.close()
        #expect(export.datasets.flatMap(\.files).allSatisfy { $0.size != nil && $0.checksum != nil })
        let file = directory.appendingPathComponent("export.sqlite3")
        // Read back it is the export written (sizes and checksums included).
        let readBack = try ExportDatabase.read(file, universe: try DimensionUniverse.defaultUniverse())
        #expect(readBack.dimensions == export.dimensions, "\(readBack.dimensions) \(export.dimensions)")
        #expect(readBack.collections == export.collections, "\(readBack.collections) \(export.collections)")
        #expect(readBack.datasets == export.datasets, "\(readBack.datasets) \(export.datasets)")
        #expect(readBack.associations == export.associations)

        let destRoot = work.url.appendingPathComponent("dest")
        try await TestRepository.create(in: destRoot, backend: backend)
        let dest = try await Butler(repository: destRoot)
        let artifactPath = try #require(export.datasets.first?.files.first?.path)
        let artifact = directory.appendingPathComponent(artifactPath)
        let original = try Data(contentsOf: artifact)

        // A truncated artifact: refused by its size, naming it; nothing registered.
        try original.dropLast(2).write(to: artifact)
        let truncated = await #expect(throws: ButlerError.self) { try await dest.import(from: directory, transfer: .direct) }
        #expect(truncated?.code == .conflict && "\(truncated!)".contains(artifactPath), "\(String(describing: truncated))")
        #expect(try await dest.collections().isEmpty)

        // Bytes changed in place at the same size: the recorded checksum is taken, not
        // recomputed (the import does not read artifacts again), and verify finds the change.
        var changed = original
        changed[changed.count - 2] = changed[changed.count - 2] == 0x20 ? 0x21 : 0x20
        try changed.write(to: artifact)
        // Progress is reported to the handler bound for the task, a dataset at a time.
        let reports = Mutex<[ProgressReport]>([])
        let record: @Sendable (ProgressReport) -> Void = { report in reports.withLock { $0.append(report) } }
        try await ButlerProgress.$handler.withValue(record) {
            #expect(try await dest.import(from: directory, transfer: .direct).imported == 6)
            _ = try await dest.verify()
        }
        let seen = reports.withLock { $0 }
        #expect(seen.filter { $0.operation == "import" }.map(\.completed) == Array(1...6), "\(seen)")
        #expect(seen.last { $0.operation == "import" }?.total == 6)
        #expect(seen.last { $0.operation == "verify" }.map { $0.completed == $0.total && $0.completed == 6 } == true, "\(seen)")
        let report = try await dest.verify()
        #expect(report.corrupt.count == 1 && report.checked == 6, "\(report)")
        try original.write(to: artifact)
        #expect(try await dest.verify().isClean)
        #expect(try await dest.get(refs[0], as: [String: JSONValue].self) == ["visit": 1, "detector": 0])

        // Malformed files name the file and what is wrong, and change nothing.
        let other = work.url.appendingPathComponent("other")
        try await TestRepository.create(in: other, backend: backend)
        let empty = try await Butler(repository: other)
        func tampered(_ name: String, _ sql: String) throws -> URL {
            let copy = work.url.appendingPathComponent(name)
            try FileManager.default.copyItem(at: file, to: copy)
            try Self.executeSQL(sql, in: copy)
            return copy
        }
        let cases: [(name: String, sql: String, expected: String)] = [
            ("newer.sqlite3", "UPDATE butler_export SET value = '2' WHERE key = 'version'", "format version 2"),
            ("bad-id.sqlite3", "UPDATE datasets SET id = 'x' WHERE position = 3", "datasets row 3"),
            (
                "no-visit.sqlite3", "UPDATE datasets SET data_id = '{\"instrument\":\"HSC\",\"detector\":1}' WHERE position = 2",
                "has no visit"
            ),
            ("not-export.sqlite3", "DROP TABLE butler_export", "not an export database"),
        ]
        for (name, sql, expected) in cases {
            let broken = try tampered(name, sql)
            let error = await #expect(throws: ButlerError.self) { try await empty.import(from: directory, exportFile: broken) }
            #expect(
                error?.code == .invalidParameter && "\(error!)".contains(name) && "\(error!)".contains(expected),
                "\(String(describing: error))")
        }
        #expect(try await empty.collections().isEmpty)
        try await empty.close()
        try await dest.close()
    }

    /// What `zip_interop.py` prints.
    struct ZipSummary: Decodable {
        let zip: String?
        let datasets: [Summary.Dataset]
    }

    /// The datasets of a repository as `zip_interop.py` summarizes them.
    static func datasetSummary(_ butler: Butler) async throws -> [Summary.Dataset] {
        try await summary(butler).datasets
    }

    static func expectSameDatasets(_ ours: [Summary.Dataset], _ theirs: [Summary.Dataset], _ context: String) {
        #expect(ours.map(\.id) == theirs.map(\.id), "\(context): IDs")
        for (a, b) in zip(ours, theirs) {
            #expect(
                a.datasetType == b.datasetType && a.run == b.run && a.dataId == b.dataId && a.value == b.value,
                "\(context): dataset \(a.id)")
        }
    }

    @Test("Zips of datasets go both ways with daf_butler: retrieve-artifacts --zip and ingest-zip", arguments: Backend.available)
    func zips(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        // daf_butler's Zip, ingested here with its IDs.
        let theirs = try JSONDecoder().decode(ZipSummary.self, from: try ReferencePython.run("zip_interop.py", ["make", work.url.path]))
        let dafZip = URL(fileURLWithPath: try #require(theirs.zip))
        let root = work.url.appendingPathComponent("ours")
        try await TestRepository.create(in: root, backend: backend)
        let butler = try await Butler(repository: root, run: "run/ours")
        try await TestRepository.insertInstrument(butler, visits: 3, detectors: 4)
        let dry = try await butler.ingestZip(dafZip, dryRun: true)
        #expect(dry.ingested == 4 && dry.artifacts == 4)
        #expect(try await butler.queryDatasets(["*"], collections: ["*"]).isEmpty)
        let ingested = try await butler.ingestZip(dafZip)
        #expect(ingested.ingested == 4 && ingested.alreadyPresent == 0)
        Self.expectSameDatasets(try await Self.datasetSummary(butler), theirs.datasets, "daf_butler Zip → here")
        #expect(try await butler.verify().isClean)
        // Again: refused as it stands (everything is there), accepted with skipExisting.
        let again = await #expect(throws: ButlerError.self) { try await butler.ingestZip(dafZip) }
        #expect(again?.code == .conflict && "\(again!)".contains(dafZip.path))
        #expect(try await butler.ingestZip(dafZip, skipExisting: true).alreadyPresent == 4)

        // A Zip written here, ingested by daf_butler with the same IDs and values.
        let refs = try await butler.put(
            contentsOf: [(2, 2), (3, 3)].map { visit, detector in
                let value: [String: JSONValue] = ["visit": .int(Int64(visit)), "seeing": 0.75]
                return DatasetToPut(
                    value, "metrics", dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))])
            })
        let ours = try await butler.queryDatasets(["metrics"], collections: ["run/ours"])
        #expect(ours.count == 2)
        let zips = work.url.appendingPathComponent("our-zips")
        let zip = try await butler.retrieveArtifactsZip(ours, destination: zips)
        #expect(zip.lastPathComponent.hasSuffix(".zip") && zip.deletingLastPathComponent().path == zips.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: zips.path) == [zip.lastPathComponent])
        let dafSide = try JSONDecoder().decode(
            ZipSummary.self, from: try ReferencePython.run("zip_interop.py", ["ingest", zip.path, work.url.path]))
        let mine = try await Self.datasetSummary(butler).filter { entry in refs.contains { $0.id.uuidString.lowercased() == entry.id } }
        Self.expectSameDatasets(mine, dafSide.datasets, "Zip here → daf_butler")
        // And here, into another repository, moving the Zip.
        let otherRoot = work.url.appendingPathComponent("other")
        try await TestRepository.create(in: otherRoot, backend: backend)
        let other = try await Butler(repository: otherRoot)
        try await TestRepository.insertInstrument(other, visits: 3, detectors: 4)
        #expect(try await other.ingestZip(zip, transfer: .move).ingested == 2)
        #expect(!FileManager.default.fileExists(atPath: zip.path))
        Self.expectSameDatasets(try await Self.datasetSummary(other), mine, "Zip here → here")

        // Not a Zip, and a Zip without an index: named, nothing written.
        let notZip = work.url.appendingPathComponent("not.zip")
        try Data("plain text".utf8).write(to: notZip)
        let bad = await #expect(throws: ButlerError.self) { try await other.ingestZip(notZip) }
        #expect(bad?.code == .invalidParameter && "\(bad!)".contains("not.zip"), "\(String(describing: bad))")
        try await other.close()
        try await butler.close()
    }

    /// Runs `sql` on an SQLite file by Python's sqlite3, a client other than ours.
    static func executeSQL(_ sql: String, in file: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", file.path, sql,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 sqlite3 failed on \(sql)")
    }

    @Test("a broken export changes nothing and names what is wrong")
    func brokenExports() async throws {
        let work = try TemporaryDirectory()
        let theirs = try JSONDecoder().decode(Summary.self, from: try ReferencePython.run("export_import.py", ["export", work.url.path]))
        let export = work.url.appendingPathComponent("export")
        let root = work.url.appendingPathComponent("ours")
        try await TestRepository.create(in: root, backend: .sqlite)
        let butler = try await Butler(repository: root)
        let file = export.appendingPathComponent("export.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)

        // A missing artifact: refused before anything is written.
        let artifact = try #require(
            FileManager.default.enumerator(atPath: export.path)?.compactMap { $0 as? String }.first {
                $0.hasSuffix(".yaml") && $0.contains("bias")
            })
        let moved = work.url.appendingPathComponent("moved.yaml")
        try FileManager.default.moveItem(at: export.appendingPathComponent(artifact), to: moved)
        let missing = await #expect(throws: ButlerError.self) { try await butler.import(from: export) }
        #expect(missing?.code == .missingArtifact && "\(missing!)".contains(artifact), "\(String(describing: missing))")
        try FileManager.default.moveItem(at: moved, to: export.appendingPathComponent(artifact))

        // An ID that clashes with a different dataset fails inside the transaction: nothing stays.
        let tampered = text.replacingOccurrences(of: "detector: 2\n", with: "detector: 1\n")
        let clash = work.url.appendingPathComponent("clash.yaml")
        try tampered.write(to: clash, atomically: true, encoding: .utf8)
        await #expect(throws: ButlerError.self) { try await butler.import(from: export, exportFile: clash) }
        #expect(try await butler.collections().isEmpty)
        #expect(try await butler.dimensionRecords("instrument").isEmpty)

        // A malformed file names the file and the line.
        let broken = work.url.appendingPathComponent("broken.yaml")
        try text.replacingOccurrences(of: "!uuid '", with: "!uuid 'x").write(to: broken, atomically: true, encoding: .utf8)
        let malformed = await #expect(throws: ButlerError.self) { try await butler.import(from: export, exportFile: broken) }
        #expect(malformed?.code == .invalidParameter && "\(malformed!)".contains("broken.yaml line"), "\(String(describing: malformed))")
        let newer = work.url.appendingPathComponent("newer.yaml")
        try text.replacingOccurrences(of: "version: 1.0.2", with: "version: 1.1.0").write(to: newer, atomically: true, encoding: .utf8)
        let version = await #expect(throws: ButlerError.self) { try await butler.import(from: export, exportFile: newer) }
        #expect("\(version!)".contains("1.1.0"), "\(String(describing: version))")

        // The good file still imports whole.
        #expect(try await butler.import(from: export).imported == theirs.datasets.count)
        try await butler.close()
    }

    @Test("an import killed mid-way (kill -9) leaves all or nothing, and a re-run completes it", arguments: Backend.available)
    func killedImport(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let sourceRoot = work.url.appendingPathComponent("source")
        let source = try await TestRepository.metricsRepository(sourceRoot, backend: backend, visits: 12, detectors: 50)
        let directory = work.url.appendingPathComponent("export")
        try await source.export(to: directory, collections: ["run/a"])
        try await source.close()

        let destRoot = work.url.appendingPathComponent("dest")
        try await TestRepository.create(in: destRoot, backend: backend)
        for delay in [100_000, 300_000, 600_000] as [UInt32] {
            let process = Process()
            process.executableURL = BuiltProducts.butler
            process.arguments = ["import", destRoot.path, directory.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(delay)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let dest = try await Butler(repository: destRoot, writeable: false)
            let count = try await dest.queryDatasets(["*"], collections: ["*"]).count
            #expect(count == 0 || count == 600, "\(count) datasets after an import killed at \(delay) µs")
            try await dest.close()
        }
        let dest = try await Butler(repository: destRoot)
        let summary = try await dest.import(from: directory)
        #expect(summary.imported + summary.alreadyPresent == 600)
        #expect(try await dest.queryDatasets(["metrics"], collections: ["run/a"]).count == 600)
        let report = try await dest.verify()
        #expect(report.missing.isEmpty && report.corrupt.isEmpty, "\(report)")
        try await dest.close()
    }
}

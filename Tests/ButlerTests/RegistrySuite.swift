import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

/// The registry suite: written once, run on every available engine.
@Suite("Registry on every backend")
struct RegistrySuite {
    func makeButler(_ backend: Backend, run: String? = "run/a") async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: run)
        try await TestRepository.insertInstrument(butler)
        return (butler, directory)
    }

    @Test("PostgreSQL is exercised whenever CI runs")
    func postgresInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Backend.postgresURL != nil, "CI must start PostgreSQL and set BUTLER_TEST_POSTGRES_URL")
        }
    }

    @Test("dataset types: identical re-registration is accepted, a conflict shows both definitions", arguments: Backend.available)
    func datasetTypes(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let type = try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        #expect(type.dimensions.required == ["instrument", "detector", "visit"])
        try await butler.registerDatasetType(
            "metrics", dimensions: ["instrument", "visit", "detector"], storageClass: "StructuredDataDict")
        let error = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        }
        let message = "\(error!)"
        #expect(message.contains("metrics {instrument, detector, visit} StructuredDataDict"))
        #expect(message.contains("metrics {instrument, visit} StructuredDataDict"))
        await #expect(throws: StorageClassError.self) {
            try await butler.registerDatasetType("other", dimensions: ["visit"], storageClass: "NoSuchClass")
        }
        await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("bad name", dimensions: ["visit"], storageClass: "Bytes")
        }
        #expect(try await butler.datasetTypes(matching: ["met*"]).map(\.name) == ["metrics"])
        try await butler.close()
    }

    @Test("dimension records: parents must exist, conflicts are reported, modes work", arguments: Backend.available)
    func records(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let orphan = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords("detector", [["instrument": "LSSTCam", "id": 1, "full_name": "R00_S00"]])
        }
        #expect("\(orphan!)".contains("no instrument record LSSTCam"))
        let duplicate = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords("detector", [["instrument": "HSC", "id": 1, "full_name": "again"]])
        }
        #expect("\(duplicate!)".contains("already exists"))
        let unknownField = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords("detector", [["instrument": "HSC", "id": 9, "colour": "red"]])
        }
        #expect("\(unknownField!)".contains("unknown field 'colour'"))
        #expect(
            try await butler.insertDimensionRecords("detector", [["instrument": "HSC", "id": 1, "full_name": "x"]], mode: .skipExisting)
                == 0)
        try await butler.insertDimensionRecords("detector", [["instrument": "HSC", "id": 1, "full_name": "renamed"]], mode: .replace)
        let detector = try await butler.dimensionRecords("detector", where: "detector = 1")
        #expect(detector.count == 1 && detector[0]["full_name"] == "renamed")
        let bands = try await butler.dimensionRecords("band")
        #expect(bands.map { $0["name"] } == ["i", "r"])
        let long = try await butler.dimensionRecords("visit", where: "visit.exposure_time > 40")
        #expect(long.map { $0["id"] } == [2, 3])
        let iBand = try await butler.dimensionRecords("visit", where: "band = 'i'")
        #expect(iBand.map { $0["id"] } == [1, 3])
        try await butler.close()
    }

    @Test("record timespans: times in any daf_butler form, open ends unbounded, bad times named", arguments: Backend.available)
    func recordTimespans(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.insertDimensionRecords(
            "exposure",
            [
                [
                    "instrument": "HSC", "id": 100, "obs_id": "HSC100", "physical_filter": "HSC-I", "day_obs": 20131102,
                    "timespan": ["begin": "2013-11-02T10:00:00", "end": "2013-11-02T10:00:30"],
                ],
                [
                    "instrument": "HSC", "id": 101, "obs_id": "HSC101", "physical_filter": "HSC-I", "day_obs": 20131102,
                    "timespan": ["begin": "mjd/56598.5/tai"],
                ],
            ])
        let records = try await butler.dimensionRecords("exposure", where: "exposure IN (100, 101)")
        // ISO without a scale is UTC (35 s behind TAI in 2013); a missing end is unbounded.
        let utc = try AstroTime("2013-11-02T10:00:00")
        #expect(utc.taiNanoseconds == 1_383_386_435_000_000_000)
        #expect(records[0]["timespan_begin"] == .int(utc.taiNanoseconds))
        #expect(records[0]["timespan_end"] == .int(utc.taiNanoseconds + 30_000_000_000))
        #expect(records[1]["timespan_begin"] == .int(try AstroTime("56598.5").taiNanoseconds))
        #expect(records[1]["timespan_end"] == .int(Timespan.maxNanoseconds))
        let bad = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords(
                "exposure",
                [
                    [
                        "instrument": "HSC", "id": 102, "obs_id": "HSC102", "physical_filter": "HSC-I", "day_obs": 20131102,
                        "timespan": ["begin": "2013-11-02T25:00:00"],
                    ]
                ])
        }
        #expect(bad?.code == .dimensionRecord && "\(bad!)".contains("exposure record") && "\(bad!)".contains("2013-11-02T25:00:00"))
        try await butler.close()
    }

    @Test(
        "the where-language: ranges, binds, arithmetic, GLOB, timespans and times, dataset IDs and ingest dates",
        arguments: Backend.available)
    func whereLanguage(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for visit in 1...3 {
            for detector in 0...1 {
                refs.append(
                    try await butler.put(
                        ["x": JSONValue.int(Int64(visit))], "metrics",
                        dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
            }
        }
        func found(_ expression: String, bind: [String: BindValue] = [:]) async throws -> [String] {
            try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: expression, bind: bind).map {
                "\($0.dataId["visit"]!)/\($0.dataId["detector"]!)"
            }
        }
        #expect(try await found("visit IN (1..3:2) AND detector = 0") == ["1/0", "3/0"])
        #expect(try await found("visit NOT IN (2..3) AND detector IN (:d)", bind: ["d": 1]) == ["1/1"])
        // A list bound to a name stands for its elements in IN; a float compares with a float field.
        #expect(try await found("visit IN (:visits) AND detector = 0", bind: ["visits": [1, 3]]) == ["1/0", "3/0"])
        #expect(try await found("visit NOT IN (:none) AND detector = 0 AND visit = 2", bind: ["none": []]) == ["2/0"])
        #expect(try await found("visit.exposure_time > :t AND detector = 0", bind: ["t": 75.5]) == ["3/0"])
        let listAlone = await #expect(throws: ButlerError.self) { try await found("visit = :visits", bind: ["visits": [1, 3]]) }
        #expect("\(listAlone!)".contains("only IN (…) or OVERLAPS"))
        // A bind the expression does not use (a misspelt name) is an error, not ignored.
        let unused = await #expect(throws: ButlerError.self) { try await found("visit = :v", bind: ["v": 1, "detecter": 0]) }
        #expect("\(unused!)".contains(":detecter") && "\(unused!)".contains("not used"))
        let noExpression = await #expect(throws: ButlerError.self) {
            try await butler.queryDatasets(["metrics"], collections: ["run/a"], bind: ["v": 1])
        }
        #expect("\(noExpression!)".contains("no where-expression uses them"))
        #expect(try await found("visit + detector = 3 AND visit % 2 = 0") == ["2/1"])
        #expect(try await found("-visit * 2 <= -6") == ["3/0", "3/1"])
        #expect(try await found("visit.exposure_time / 30 > 2.5") == ["3/0", "3/1"])
        #expect(try await found("GLOB(visit.name, 'v[12]') OR GLOB(physical_filter, '*-R')") == ["2/0", "2/1"])
        #expect(try await found("dataset_id = UUID('\(refs[4].id.uuidString)')") == ["3/0"])
        #expect(
            try await found("dataset_id IN (:a, UUID('\(refs[1].id.uuidString)'))", bind: ["a": .string(refs[0].id.uuidString)]) == [
                "1/0", "1/1",
            ])
        #expect(try await found("ingest_date > T'2020-01-01T00:00:00' AND detector = 1").count == 3)
        #expect(try await found("ingest_date < T'58000.0'").isEmpty)

        try await butler.insertDimensionRecords(
            "exposure",
            [100, 101].map { id in
                [
                    "instrument": "HSC", "id": .int(Int64(id)), "obs_id": .string("HSC\(id)"), "physical_filter": "HSC-I",
                    "day_obs": 20131102,
                    "timespan": [
                        "begin": .string("2013-11-02T10:0\(id - 100):00"), "end": .string("2013-11-02T10:0\(id - 100):30"),
                    ],
                ]
            })
        func exposures(_ expression: String) async throws -> [DataIdValue?] {
            try await butler.queryDataIds(["exposure"], where: expression).map { $0["exposure"] }
        }
        #expect(try await exposures("exposure.timespan OVERLAPS (T'2013-11-02T10:00:10', T'2013-11-02T10:00:20')") == [100])
        #expect(try await exposures("exposure.timespan OVERLAPS T'2013-11-02T10:01:29'") == [101])
        // Half-open: the end instant is outside; TAI strings are 35 s ahead of UTC in 2013.
        #expect(try await exposures("exposure.timespan OVERLAPS T'2013-11-02T10:00:30'").isEmpty)
        #expect(try await exposures("exposure.timespan OVERLAPS T'2013-11-02T10:00:45/tai'") == [100])
        #expect(try await exposures("exposure.timespan < T'2013-11-02T10:00:30'") == [100])
        #expect(try await exposures("exposure.timespan > T'2013-11-02T10:00:30'") == [101])
        #expect(try await exposures("exposure.timespan.begin >= T'2013-11-02T10:01:00' AND exposure.timespan.end <= T'56598.5'") == [101])
        let wrongKind = await #expect(throws: ButlerError.self) { try await exposures("exposure.timespan = 3") }
        #expect("\(wrongKind!)".contains("different kinds"))
        let unbound = await #expect(throws: ButlerError.self) { try await found("visit = :nothing") }
        #expect("\(unbound!)".contains(":nothing"))
        try await butler.close()
    }

    @Test(
        "a find or query that comes back empty says why: unknown dimension values, no datasets there, terms that match nothing",
        arguments: Backend.available)
    func explainedMisses(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await butler.put(["x": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        _ = try await butler.registerRun("run/empty")
        let unknownVisit = await #expect(throws: ButlerError.self) {
            try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 999], collections: ["run/a"])
        }
        #expect(unknownVisit?.code == .missingDataset && unknownVisit?.reasons == ["visit=999 is not a known visit of instrument HSC"])
        let elsewhere = await #expect(throws: ButlerError.self) {
            try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 2], collections: ["run/empty"])
        }
        #expect(elsewhere?.reasons == ["metrics has no datasets in run/empty"])
        #expect("\(elsewhere!)".contains("metrics has no datasets in run/empty"))
        // Found neither reason: the dataset simply is not there.
        let plain = await #expect(throws: ButlerError.self) {
            try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 2], collections: ["run/a"])
        }
        #expect(plain?.reasons == [])
        // Over several types, a constraint on a dimension a type lacks leaves that type out;
        // named alone, the type must take it.
        try await butler.registerDatasetType("flat", dimensions: ["detector"], storageClass: "StructuredDataDict")
        try await butler.put(["x": JSONValue.int(1)], "flat", dataId: ["instrument": "HSC", "detector": 1])
        let all = try await butler.queryDatasets([], collections: ["run/a"], where: "visit = 1")
        #expect(all.map(\.datasetType.name) == ["metrics"])
        #expect(try await butler.queryDatasets(["*"], collections: ["run/a"]).count == 2)
        await #expect(throws: ButlerError.self) { try await butler.queryDatasets(["flat"], collections: ["run/a"], where: "visit = 1") }
        // An empty query explains itself: terms that match nothing alone, unknown values…
        let why = try await butler.explainNoDatasets(
            ["metrics"], collections: ["run/a"], where: "instrument = 'HSC' AND visit = 999 AND band = 'i'")
        #expect(why == ["metrics: `visit = 999` alone matches nothing", "metrics: visit=999 is not a known visit of instrument HSC"])
        // …terms that only fail together, and types absent from the collections.
        #expect(
            try await butler.explainNoDatasets(["metrics"], collections: ["run/a"], where: "visit = 1 AND band = 'r'")
                == ["metrics: `band = 'r'` alone matches nothing"])
        try await butler.put(["x": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 2])
        #expect(
            try await butler.explainNoDatasets(["metrics"], collections: ["run/a"], where: "visit = 1 AND band = 'r'")
                == ["metrics: each of the 2 terms matches something alone, but not all of them together"])
        #expect(
            try await butler.explainNoDatasets(["metrics"], collections: ["run/empty"], where: "visit = 1")
                == ["metrics has no datasets in run/empty"])
        #expect(try await butler.explainNoDatasets(["metrics"], collections: ["run/a"], where: "visit = 1").isEmpty)
        #expect(
            try await butler.explainNoDataIds(["visit"], where: "visit = 2 AND band = 'i'")
                == ["each of the 2 terms matches something alone, but not all of them together"])
        try await butler.close()
    }

    @Test("data IDs expand from records and inconsistent implied values are errors", arguments: Backend.available)
    func expansion(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let expanded = try await butler.expandDataId(["instrument": "HSC", "visit": 2, "detector": 1], dimensions: ["visit", "detector"])
        #expect(expanded["physical_filter"] == "HSC-R")
        #expect(expanded["band"] == "r")
        #expect(expanded["day_obs"] == 20131102)
        let inconsistent = await #expect(throws: ButlerError.self) {
            try await butler.expandDataId(
                ["instrument": "HSC", "visit": 2, "detector": 1, "band": "i"], dimensions: ["visit", "detector"])
        }
        #expect("\(inconsistent!)".contains("band=i is inconsistent with the physical_filter record"))
        let missing = await #expect(throws: ButlerError.self) {
            try await butler.expandDataId(["instrument": "HSC", "visit": 99, "detector": 1], dimensions: ["visit", "detector"])
        }
        #expect("\(missing!)".contains("no visit record for visit=99"))
        try await butler.close()
    }

    @Test("find-first follows the collection order, through chains", arguments: Backend.available)
    func findFirst(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let old = try await butler.put(["version": JSONValue.int(1)], "metrics", dataId: dataId, run: "run/old")
        let new = try await butler.put(["version": JSONValue.int(2)], "metrics", dataId: dataId, run: "run/new")
        #expect(try await butler.findDataset("metrics", dataId: dataId, collections: ["run/new", "run/old"]) == new)
        #expect(try await butler.findDataset("metrics", dataId: dataId, collections: ["run/old", "run/new"]) == old)
        try await butler.setCollectionChain("chain", children: ["run/new", "run/old"])
        let value = try await butler.get("metrics", dataId: dataId, collections: ["chain"], as: [String: Int].self)
        #expect(value == ["version": 2])
        try await butler.setCollectionChain("chain", children: ["run/old"], mode: .prepend)
        #expect(try await butler.collectionChain("chain") == ["run/old", "run/new"])
        #expect(try await butler.findDataset("metrics", dataId: dataId, collections: ["chain"]) == old)
        try await butler.setCollectionChain("chain", children: [], mode: .pop)
        #expect(try await butler.collectionChain("chain") == ["run/new"])
        try await butler.setCollectionChain("outer", children: ["chain"])
        let cycle = await #expect(throws: ButlerError.self) {
            try await butler.setCollectionChain("chain", children: ["outer"], mode: .extend)
        }
        #expect("\(cycle!)".contains("cycle"))
        #expect(try await butler.flattenCollections(["outer", "run/old"]) == ["run/new", "run/old"])
        #expect(
            try await butler.findDataset("metrics", dataId: ["instrument": "HSC", "visit": 3, "detector": 2], collections: ["chain"]) == nil
        )
        let missing = await #expect(throws: ButlerError.self) {
            try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 3, "detector": 2], collections: ["chain"])
        }
        #expect("\(missing!)".contains("metrics@{instrument: HSC, detector: 2, visit: 3} is not in collections [\"chain\"]"))
        try await butler.close()
    }

    @Test("a put of an existing dataset names the existing ref", arguments: Backend.available)
    func duplicatePut(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let first = try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let error = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect("\(error!)".contains(first.id.uuidString.lowercased()))
        let deterministic = try await butler.put(
            ["a": JSONValue.int(3)], "metrics", dataId: ["instrument": "HSC", "visit": 2], idGenerationMode: .dataIdType)
        let clash = await #expect(throws: ButlerError.self) {
            try await butler.put(
                ["a": JSONValue.int(4)], "metrics", dataId: ["instrument": "HSC", "visit": 2], run: "run/b", idGenerationMode: .dataIdType)
        }
        #expect("\(clash!)".contains(deterministic.id.uuidString.lowercased()))
        try await butler.close()
    }

    @Test("queries: equality, implied dimensions, record fields, find-first, data IDs", arguments: Backend.available)
    func queries(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        for visit in 1...3 {
            for detector in 0..<4 {
                try await butler.put(
                    ["v": JSONValue.int(Int64(visit))], "metrics",
                    dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))])
            }
        }
        try await butler.put(["v": JSONValue.int(0)], "metrics", dataId: ["instrument": "HSC", "visit": 1, "detector": 0], run: "run/b")
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"]).count == 12)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"], dataId: ["visit": 2]).count == 4)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: "band = 'i' AND detector IN (0, 1)").count == 4)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: "visit.exposure_time >= 60").count == 8)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: "visit = v", bind: ["v": 3]).count == 4)
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/*"]).count == 13)
        let firsts = try await butler.queryDatasets(["metrics"], collections: ["run/b", "run/a"], findFirst: true)
        #expect(firsts.count == 12)
        #expect(firsts.filter { $0.run == "run/b" }.count == 1)
        // A tract relates to visits and detectors by overlap (daf_butler's spatial join): with no
        // regions recorded, nothing overlaps. A dimension related neither way is an error.
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: "skymap = 'x' AND tract = 3").isEmpty)
        let unknown = await #expect(throws: ButlerError.self) {
            try await butler.queryDatasets(["metrics"], collections: ["run/a"], where: "exposure = 3")
        }
        #expect("\(unknown!)".contains("'exposure' is not related"))
        let dataIds = try await butler.queryDataIds(["visit", "detector"], where: "band = 'r'")
        #expect(dataIds.count == 4)
        let withData = try await butler.queryDataIds(["visit"], datasets: "metrics", collections: ["run/b"])
        #expect(withData.map { $0["visit"] } == [1])
        try await butler.close()
    }

    @Test("text arguments bind exactly: non-ASCII, empty-looking prefixes, and on SQLite an embedded NUL", arguments: Backend.available)
    func textArguments(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        // PostgreSQL text cannot hold NUL at all; SQLite can, and a NUL-terminated bind would
        // cut "Cam\0B" to "Cam".
        var names = ["Ünïcode-Cam", "Cam"]
        if backend == .sqlite { names.append("Cam\u{0}B") }
        try await butler.insertDimensionRecords("instrument", names.map { ["name": .string($0)] })
        for name in names {
            let found = try await butler.queryDataIds(["instrument"], where: "instrument = name", bind: ["name": .string(name)])
            #expect(found.map { $0["instrument"] } == [.string(name)], "instrument \(name.debugDescription)")
        }
        try await butler.close()
    }

    @Test("tagged collections hold one dataset per type and data ID", arguments: Backend.available)
    func tagged(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let a = try await butler.put(["x": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let b = try await butler.put(["x": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 1], run: "run/b")
        try await butler.associate("best", [a])
        #expect(try await butler.findDataset("metrics", dataId: ["instrument": "HSC", "visit": 1], collections: ["best"]) == a)
        await #expect(throws: ButlerError.self) { try await butler.associate("best", [b]) }
        try await butler.disassociate("best", [a])
        try await butler.associate("best", [b])
        #expect(try await butler.findDataset("metrics", dataId: ["instrument": "HSC", "visit": 1], collections: ["best"]) == b)
        let infos = try await butler.collections()
        #expect(infos.map(\.name) == ["best", "run/a", "run/b"])
        #expect(infos.first { $0.name == "best" }?.type == .tagged)
        try await butler.close()
    }

    @Test("removing runs and pruning datasets removes rows and files", arguments: Backend.available)
    func removal(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let a = try await butler.put(["x": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let b = try await butler.put(["x": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 2])
        let c = try await butler.put(["x": JSONValue.int(3)], "metrics", dataId: ["instrument": "HSC", "visit": 1], run: "run/c")
        let fileA = try await butler.artifactURLs(a)[0]
        let fileB = try await butler.artifactURLs(b)[0]
        let fileC = try await butler.artifactURLs(c)[0]
        try await butler.pruneDatasets([a], unstore: true)
        #expect(!FileManager.default.fileExists(atPath: fileA.path))
        #expect(try await butler.dataset(id: a.id) != nil)
        #expect(try await butler.exists(a) == false)
        // Found by data ID but without artifacts: a clear error, not an empty read.
        let unstored = await #expect(throws: ButlerError.self) {
            try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 1], collections: ["run/a"])
        }
        #expect("\(unstored!)".contains("no stored artifact"))
        try await butler.pruneDatasets([b], purge: true)
        #expect(!FileManager.default.fileExists(atPath: fileB.path))
        #expect(try await butler.dataset(id: b.id) == nil)
        try await butler.setCollectionChain("chain", children: ["run/c"])
        let chained = await #expect(throws: ButlerError.self) { try await butler.removeRuns(["run/c"]) }
        #expect("\(chained!)".contains("chain"))
        #expect(try await butler.removeRuns(["run/c"], unlinkFromChains: true) == 1)
        #expect(!FileManager.default.fileExists(atPath: fileC.path))
        #expect(try await butler.collectionChain("chain").isEmpty)
        #expect(try await butler.collections(types: [.run]).map(\.name) == ["run/a"])
        try await butler.close()
    }
}

import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// CALIBRATION collections on every engine: certification, the database's refusal of
/// overlapping validity ranges (also between concurrent writers), look-ups by time, ambiguity,
/// decertification, temporal joins and chains mixing RUN and CALIBRATION collections.
@Suite("Calibration collections on every backend")
struct CalibrationTests {
    /// A repository with HSC-like records, exposures 1–4 at known times and a bias type.
    func makeButler(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "calib/2023")
        try await TestRepository.insertInstrument(butler)
        try await butler.insertDimensionRecords("group", [["instrument": "HSC", "name": "g"]])
        try await butler.insertDimensionRecords(
            "exposure",
            [
                exposure(1, "2023-06-01T10:00:00"), exposure(2, "2024-01-10T10:00:00"),
                exposure(3, "2024-03-01T10:00:00"), exposure(4, "2025-01-01T00:00:00"),
            ])
        try await butler.registerDatasetType("bias", dimensions: ["detector"], storageClass: "StructuredDataDict", isCalibration: true)
        return (butler, directory)
    }

    func exposure(_ id: Int64, _ start: String) -> [String: JSONValue] {
        let begin = try! AstroTime(value: start, scale: .tai)
        let end = AstroTime(taiNanoseconds: begin.taiNanoseconds + 30_000_000_000)
        return [
            "instrument": "HSC", "id": .int(id), "obs_id": .string("e\(id)"), "physical_filter": "HSC-I", "day_obs": 20131102,
            // TAI nanoseconds: a time string would be read as UTC, 37 s off the TAI times here.
            "group": "g", "timespan": ["begin": .int(begin.taiNanoseconds), "end": .int(end.taiNanoseconds)],
        ]
    }

    func span(_ begin: String?, _ end: String?) throws -> Timespan {
        try Timespan(begin: begin.map { try AstroTime(value: $0, scale: .tai) }, end: end.map { try AstroTime(value: $0, scale: .tai) })
    }

    func level(_ butler: Butler, _ dataId: DataId, collections: [String], timespan: Timespan? = nil) async throws -> Int64? {
        let value = try await butler.get("bias", dataId: dataId, collections: collections, timespan: timespan, as: JSONValue.self)
        return value.objectValue?["level"]?.intValue
    }

    /// Biases for detectors 0 and 1 in run `run`, each holding `level`.
    func putBiases(_ butler: Butler, run: String, level: Int64) async throws -> [DatasetRef] {
        var refs: [DatasetRef] = []
        for detector in [0, 1] as [Int64] {
            refs.append(
                try await butler.put(
                    JSONValue.object(["level": .int(level)]), "bias", dataId: ["instrument": "HSC", "detector": .int(detector)], run: run))
        }
        return refs
    }

    @Test(
        "certify, find by an exposure's time or an explicit timespan, explain misses with the nearest ranges", arguments: Backend.available)
    func certifyAndFind(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        let new = try await putBiases(butler, run: "calib/2024", level: 2)
        try await butler.certify(old, collection: "calib", timespan: try span("2023-01-01", "2024-02-01"))
        try await butler.certify(new, collection: "calib", timespan: try span("2024-02-01", nil))
        #expect(try await butler.collections(matching: ["calib"]).map(\.type) == [.calibration])

        // The exposure in the data ID gives the time; an explicit timespan wins over it.
        #expect(try await level(butler, ["instrument": "HSC", "detector": 0, "exposure": 1], collections: ["calib"]) == 1)
        #expect(try await level(butler, ["instrument": "HSC", "detector": 0, "exposure": 3], collections: ["calib"]) == 2)
        #expect(
            try await level(
                butler, ["instrument": "HSC", "detector": 1, "exposure": 3], collections: ["calib"],
                timespan: try span("2023-05-01", "2023-05-02")) == 1)
        let found = try await butler.findDataset(
            "bias", dataId: ["instrument": "HSC", "detector": 1, "exposure": 2], collections: ["calib"])
        #expect(found?.id == old[1].id)

        // All time matches both: ambiguous, naming both datasets.
        let ambiguous = await #expect(throws: ButlerError.self) {
            try await butler.get("bias", dataId: ["instrument": "HSC", "detector": 0], collections: ["calib"])
        }
        #expect(ambiguous?.code == .ambiguousCalibration)
        #expect("\(ambiguous!)".contains(old[0].id.uuidString.lowercased()) && "\(ambiguous!)".contains(new[0].id.uuidString.lowercased()))

        // An exposure before every range: not found, with the nearest range after it.
        try await butler.insertDimensionRecords("exposure", [exposure(5, "2022-06-01T00:00:00")])
        let miss = await #expect(throws: ButlerError.self) {
            try await butler.get("bias", dataId: ["instrument": "HSC", "detector": 0, "exposure": 5], collections: ["calib"])
        }
        #expect(miss?.code == .missingDataset)
        #expect(
            miss?.reasons.contains { $0.contains("covers") && $0.contains("nearest: [2023-01-01T00:00:00, 2024-02-01T00:00:00) (after)") }
                == true)
        let unknown = await #expect(throws: ButlerError.self) {
            try await butler.get("bias", dataId: ["instrument": "HSC", "detector": 0, "exposure": 99], collections: ["calib"])
        }
        #expect("\(unknown!)".contains("exposure=99 is not a known exposure of instrument HSC"))
        try await butler.close()
    }

    @Test("overlapping certification is refused whole, with each conflict named; bad arguments are named", arguments: Backend.available)
    func overlapRefused(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        let new = try await putBiases(butler, run: "calib/2024", level: 2)
        try await butler.certify(old, collection: "calib", timespan: try span("2023-01-01", "2024-02-01"))
        let overlap = await #expect(throws: ButlerError.self) {
            try await butler.certify(new, collection: "calib", timespan: try span("2024-01-15", "2024-03-01"))
        }
        #expect(overlap?.code == .conflict && overlap?.reasons.count == 2)
        #expect(overlap?.reasons.first?.contains(old[0].id.uuidString.lowercased()) == true)
        // Nothing of the refused call was certified; an adjacent range is fine.
        #expect(try await butler.queryDatasetAssociations("bias", collections: ["calib"]).count == 2)
        try await butler.certify(new, collection: "calib", timespan: try span("2024-02-01", "2024-03-01"))
        #expect(try await butler.queryDatasetAssociations("bias", collections: ["calib"]).count == 4)

        let empty = await #expect(throws: ButlerError.self) {
            try await butler.certify(new, collection: "calib", timespan: .empty)
        }
        #expect(empty?.code == .invalidArgument)
        try await butler.registerDatasetType("flatLike", dimensions: ["detector"], storageClass: "StructuredDataDict")
        let plain = try await butler.put(
            JSONValue.object([:]), "flatLike", dataId: ["instrument": "HSC", "detector": 0], run: "calib/2023")
        let notCalibration = await #expect(throws: ButlerError.self) {
            try await butler.certify([plain], collection: "calib", timespan: .unbounded)
        }
        #expect("\(notCalibration!)".contains("flatLike") && "\(notCalibration!)".contains("not a calibration dataset type"))
        let wrongType = await #expect(throws: ButlerError.self) {
            try await butler.certify(old, collection: "calib/2023", timespan: .unbounded)
        }
        #expect(wrongType?.code == .collection)
        try await butler.close()
    }

    @Test("the database itself refuses an overlapping row, also from two writers at once", arguments: Backend.available)
    func databaseRefusesOverlap(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        let new = try await putBiases(butler, run: "calib/2024", level: 2)
        try await butler.certify([old[0]], collection: "calib", timespan: try span("2023-01-01", "2024-02-01"))
        let registry = butler.registry
        let table = try await registry.database.read { session in
            try registry.calibTable(session, for: old[0].datasetType.dimensions, create: false)
        }
        // A raw insert past the registry's own check: the engine refuses it.
        func rawInsert(_ database: any SQLDatabase, _ ref: DatasetRef, _ validity: Timespan) async throws {
            try await database.write { session in
                let collection = try registry.collection(session, named: "calib")
                let run = try registry.collection(session, named: ref.run)
                let typeId = try registry.datasetTypeRecord(session, named: "bias").id
                try session.execute(
                    "INSERT INTO \(table!) (dataset_type_id, collection_id, dataset_id, run_id, instrument, detector, validity_begin, validity_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .integer(typeId), .integer(collection.id), .uuid(ref.id), .integer(run.id), .text("HSC"), .integer(0),
                        .integer(validity.beginNanoseconds), .integer(validity.endNanoseconds),
                    ])
            }
        }
        let refused = await #expect(throws: ButlerError.self) {
            try await rawInsert(registry.database, new[0], try span("2024-01-31", "2024-06-01"))
        }
        #expect((refused?.cause as? SQLError)?.violated == .overlap)

        // Two processes' worth of connections certify overlapping ranges at once, many times:
        // exactly one of each pair wins, and the survivors never overlap.
        let other = try await Butler(repository: directory.url)
        for round in 0..<6 {
            let start = 2030 + 2 * round
            async let first: Bool = succeeded {
                try await butler.certify([old[1]], collection: "race", timespan: try span("\(start)-01-01", "\(start + 1)-06-01"))
            }
            async let second: Bool = succeeded {
                try await other.certify([new[1]], collection: "race", timespan: try span("\(start + 1)-01-01", "\(start + 2)-01-01"))
            }
            let outcomes = try await [first, second]
            #expect(outcomes.filter { $0 }.count == 1, "round \(round): \(outcomes)")
        }
        let ranges = try await butler.queryDatasetAssociations("bias", collections: ["race"]).compactMap(\.timespan)
        #expect(ranges.count == 6)
        for (i, a) in ranges.enumerated() { for b in ranges[(i + 1)...] { #expect(!a.overlaps(b)) } }
        try await other.close()
        try await butler.close()
    }

    /// Whether `body` succeeded; a conflict is a failure, anything else is rethrown.
    func succeeded(_ body: () async throws -> Void) async throws -> Bool {
        do {
            try await body()
            return true
        } catch let error as ButlerError where error.code == .conflict || error.code == .collection {
            return false
        }
    }

    @Test("decertify cuts ranges, splitting one around the removed time", arguments: Backend.available)
    func decertify(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        try await butler.certify(old, collection: "calib", timespan: try span("2023-01-01", "2024-12-01"))
        let changed = try await butler.decertify(
            collection: "calib", datasetType: "bias", timespan: try span("2024-01-01", "2024-02-01"),
            dataIds: [["instrument": "HSC", "detector": 0]])
        #expect(changed == 1)
        let ranges = try await butler.queryDatasetAssociations("bias", collections: ["calib"])
            .filter { $0.ref.dataId["detector"] == 0 }.compactMap(\.timespan)
        #expect(ranges == [try span("2023-01-01", "2024-01-01"), try span("2024-02-01", "2024-12-01")])
        // Exposure 2 (2024-01-10) fell in the hole for detector 0, not for detector 1.
        await #expect(throws: ButlerError.self) {
            try await butler.get("bias", dataId: ["instrument": "HSC", "detector": 0, "exposure": 2], collections: ["calib"])
        }
        #expect(try await level(butler, ["instrument": "HSC", "detector": 1, "exposure": 2], collections: ["calib"]) == 1)
        // Without data IDs every range over the time goes: the tail of both is cut.
        #expect(try await butler.decertify(collection: "calib", datasetType: "bias", timespan: try span("2024-06-01", nil)) == 2)
        let tails = try await butler.queryDatasetAssociations("bias", collections: ["calib"]).compactMap(\.timespan)
        #expect(tails.allSatisfy { $0.endNanoseconds <= (try! span("2024-06-01", nil)).beginNanoseconds })
        try await butler.close()
    }

    @Test("an exposure fills what it implies: the flat of its physical filter, in finds and joins", arguments: Backend.available)
    func impliedByExposure(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType(
            "flat", dimensions: ["detector", "physical_filter"], storageClass: "StructuredDataDict", isCalibration: true)
        var refs: [String: DatasetRef] = [:]
        for filter in ["HSC-I", "HSC-R"] {
            refs[filter] = try await butler.put(
                JSONValue.object(["filter": .string(filter)]), "flat",
                dataId: ["instrument": "HSC", "detector": 0, "physical_filter": .string(filter)],
                run: "calib/flats")
        }
        try await butler.certify(Array(refs.values), collection: "calib", timespan: .unbounded)
        // Exposure 1 was taken through HSC-I.
        let found = try await butler.findDataset(
            "flat", dataId: ["instrument": "HSC", "detector": 0, "exposure": 1], collections: ["calib"])
        #expect(found?.id == refs["HSC-I"]?.id)
        let joined = try await butler.queryDatasets(["flat"], collections: ["calib"], where: "exposure = 1", findFirst: true)
        #expect(joined.map(\.id) == [refs["HSC-I"]!.id])
        try await butler.close()
    }

    @Test("a chain mixing RUN and CALIBRATION collections finds by search order", arguments: Backend.available)
    func mixedChain(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        _ = try await putBiases(butler, run: "calib/override", level: 7)
        try await butler.certify(old, collection: "calib", timespan: try span("2023-01-01", "2024-02-01"))
        try await butler.setCollectionChain("calib/chain", children: ["calib", "calib/override"])
        // Valid in the CALIBRATION collection: found there first.
        #expect(try await level(butler, ["instrument": "HSC", "detector": 0, "exposure": 1], collections: ["calib/chain"]) == 1)
        // Out of every range: the RUN later in the chain supplies it.
        #expect(try await level(butler, ["instrument": "HSC", "detector": 0, "exposure": 4], collections: ["calib/chain"]) == 7)
        // The other order: the RUN wins whatever the time.
        try await butler.setCollectionChain("calib/chain", children: ["calib/override", "calib"])
        #expect(try await level(butler, ["instrument": "HSC", "detector": 0, "exposure": 1], collections: ["calib/chain"]) == 7)
        try await butler.close()
    }

    @Test("a query naming exposures joins each with the calibration valid at its time", arguments: Backend.available)
    func temporalJoin(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        let new = try await putBiases(butler, run: "calib/2024", level: 2)
        try await butler.certify(old, collection: "calib", timespan: try span("2023-01-01", "2024-02-01"))
        try await butler.certify(new, collection: "calib", timespan: try span("2024-02-01", "2024-12-01"))
        func ids(_ expression: String, findFirst: Bool = true) async throws -> Set<UUID> {
            Set(try await butler.queryDatasets(["bias"], collections: ["calib"], where: expression, findFirst: findFirst).map(\.id))
        }
        #expect(try await ids("instrument = 'HSC' AND exposure = 1") == Set(old.map(\.id)))
        #expect(try await ids("exposure = 3 AND detector = 1") == [new[1].id])
        #expect(try await ids("exposure IN (1, 3)") == Set((old + new).map(\.id)))
        // Exposure 4 (2025) is outside both ranges: nothing.
        #expect(try await ids("exposure = 4").isEmpty)
        #expect(try await ids("exposure.obs_id = 'e2'") == Set(old.map(\.id)))
        // Without a time, listing is fine but find-first is ambiguous.
        #expect(try await ids("detector = 0", findFirst: false) == [old[0].id, new[0].id])
        let ambiguous = await #expect(throws: ButlerError.self) { try await ids("detector = 0") }
        #expect(ambiguous?.code == .ambiguousCalibration)
        // Each exposure × detector with the bias valid at its time: one temporal join.
        let matches = try await butler.findCalibrations(
            "bias", for: ["exposure", "detector"], collections: ["calib"], where: "exposure > 0")
        #expect(matches.count == 6)
        #expect(matches.first?.dataId.dimensions.required == ["instrument", "detector", "exposure"])
        let byKey = Dictionary(uniqueKeysWithValues: matches.map { ("\($0.dataId["exposure"]!)/\($0.dataId["detector"]!)", $0.ref.id) })
        #expect(byKey["1/0"] == old[0].id && byKey["2/1"] == old[1].id && byKey["3/0"] == new[0].id)
        #expect(byKey["4/0"] == nil)
        await #expect(throws: ButlerError.self) {
            try await butler.findCalibrations("bias", for: ["visit_system"], collections: ["calib"])
        }
        // A boundary inside exposure 1 (10:00:00–10:00:30): both biases are valid during it.
        try await butler.certify(old, collection: "calib/edge", timespan: try span("2023-01-01", "2023-06-01T10:00:10"))
        try await butler.certify(new, collection: "calib/edge", timespan: try span("2023-06-01T10:00:10", nil))
        let straddled = await #expect(throws: ButlerError.self) {
            try await butler.findCalibrations("bias", for: ["exposure"], collections: ["calib/edge"], where: "exposure = 1")
        }
        #expect(straddled?.code == .ambiguousCalibration && "\(straddled!)".contains("exposure: 1"))
        #expect(try await butler.findCalibrations("bias", for: ["exposure"], collections: ["calib/edge"], where: "exposure = 2").count == 2)
        // Through a chain whose first member lacks the time, the next one answers.
        try await butler.setCollectionChain("calib/both", children: ["calib", "calib/edge"])
        let chained = try await butler.findCalibrations("bias", for: ["exposure"], collections: ["calib/both"], where: "exposure IN (1, 4)")
        let atFour: Set<UUID> = Set(chained.filter { $0.dataId["exposure"] == 4 }.map(\.ref.id))
        let atOne: [UUID] = chained.filter { $0.dataId["exposure"] == 1 }.map(\.ref.id)
        #expect(atFour == Set(new.map(\.id)))
        #expect(atOne == old.map(\.id))
        try await butler.close()
    }

    @Test("a repository of schema version 3 reads as it is and is upgraded when opened for writing", arguments: Backend.available)
    func schemaUpgrade(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let old = try await putBiases(butler, run: "calib/2023", level: 1)
        // Make it what the previous release wrote: version 3, no calibration tables.
        try await butler.registry.database.write { session in
            try session.execute("DROP TABLE dataset_calib_tables")
            try session.execute("DROP TABLE dataset_type_field")
            for element in butler.registry.universe.spatialElements {
                try session.execute("DROP TABLE \(DimensionUniverse.overlapTable(element.name))")
            }
            try session.execute("UPDATE butler_attributes SET value = '3' WHERE name = 'schema_version'")
        }
        try await butler.close()
        let reader = try await Butler(repository: directory.url, writeable: false)
        #expect(
            try await reader.findDataset("bias", dataId: ["instrument": "HSC", "detector": 0], collections: ["calib/2023"])?.id == old[0].id
        )
        try await reader.close()
        let writer = try await Butler(repository: directory.url)
        let version = try await writer.registry.database.read { try writer.registry.attribute($0, "schema_version") }
        #expect(version == Registry.schemaVersion)
        try await writer.certify(old, collection: "calib", timespan: .unbounded)
        #expect(try await level(writer, ["instrument": "HSC", "detector": 0], collections: ["calib"]) == 1)
        try await writer.close()
    }
}

import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// Queryable dataset fields on every engine: taken at put from dictionaries and Exposures,
/// usable in where-expressions, added later and filled by index-fields, taken at ingest.
@Suite("Dataset fields on every backend")
struct DatasetFieldTests {
    func makeButler(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        return (butler, directory)
    }

    func metrics(_ background: Double, count: Int64?, flagged: Bool) -> JSONValue {
        var stats: [String: JSONValue] = [:]
        if let count { stats["count"] = .int(count) }
        return .object(["background": .double(background), "stats": .object(stats), "flagged": .bool(flagged)])
    }

    @Test("fields of a metrics dictionary are taken at put and queried, absent values match nothing", arguments: Backend.available)
    func dictionaryFields(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let type = try await butler.registerDatasetType(
            "isr_metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict",
            fields: [
                try DatasetField(parsing: "background:float"), try DatasetField(parsing: "count:int=stats.count"),
                try DatasetField(parsing: "flagged:bool"),
            ])
        #expect(type.fields.map(\.description) == ["background:float", "count:int=stats.count", "flagged:bool"])
        var refs: [DatasetRef] = []
        for (visit, background) in [(1, 900.0), (2, 1500.0), (3, 2500.0)] {
            refs.append(
                try await butler.put(
                    metrics(background, count: visit == 3 ? nil : Int64(visit * 10), flagged: visit == 2), "isr_metrics",
                    dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": 0]))
        }
        func visits(_ expression: String, bind: [String: BindValue] = [:]) async throws -> [DataIdValue?] {
            try await butler.queryDatasets(["isr_metrics"], collections: ["run/a"], where: expression, bind: bind).map {
                $0.dataId["visit"]
            }
        }
        #expect(try await visits("isr_metrics.background > 1000") == [2, 3])
        #expect(try await visits("isr_metrics.background > :limit AND visit < 3", bind: ["limit": .int(1000)]) == [2])
        #expect(try await visits("isr_metrics.count >= 10") == [1, 2])
        #expect(try await visits("isr_metrics.flagged = TRUE") == [2])
        #expect(try await visits("isr_metrics.count IN (10, 20, 30)") == [1, 2])
        let values = try await butler.fieldValues(of: refs)
        #expect(values[refs[2].id]?["count"] == .null && values[refs[0].id]?["background"] == .double(900))
        let unknown = await #expect(throws: ButlerError.self) { try await visits("isr_metrics.seeing < 1") }
        #expect("\(unknown!)".contains("declares no field 'seeing'") && "\(unknown!)".contains("background, count, flagged"))
        // A value of another kind than declared stops the put; nothing is stored.
        let wrong = await #expect(throws: ButlerError.self) {
            try await butler.put(
                JSONValue.object(["background": "high"]), "isr_metrics", dataId: ["instrument": "HSC", "visit": 1, "detector": 1])
        }
        #expect(wrong?.code == .typeMismatch && "\(wrong!)".contains("background"))
        #expect(try await butler.queryDatasets(["isr_metrics"], collections: ["run/a"]).count == 3)
        // A field redeclared differently is a conflict.
        await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType(
                "isr_metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict",
                fields: [try DatasetField(parsing: "background:int")])
        }
        try await butler.close()
    }

    @Test("Exposure fields from the header and the visitInfo; a query over all types skips the others", arguments: Backend.available)
    func exposureFields(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType(
            "calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF",
            fields: [
                try DatasetField(parsing: "seeing:float=metadata.SEEING"),
                try DatasetField(parsing: "airmass:float=visitInfo.boresightAirmass"),
            ])
        try await butler.registerDatasetType("flat", dimensions: ["detector"], storageClass: "StructuredDataDict")
        try await butler.put(JSONValue.object([:]), "flat", dataId: ["instrument": "HSC", "detector": 0])
        for (visit, seeing) in [(1, 0.65), (2, 1.2)] {
            var calexp = try makeCalexp()
            calexp.metadata.set("SEEING", .double(seeing))
            calexp.visitInfo = VisitInfo(exposureTime: 30, boresightAirmass: 1.0 + Double(visit) / 10, id: Int64(visit))
            try await butler.put(calexp, "calexp", dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": 0])
        }
        let good = try await butler.queryDatasets(["calexp"], collections: ["run/a"], where: "calexp.seeing < 0.8")
        #expect(good.map { $0.dataId["visit"] } == [1])
        #expect(
            try await butler.queryDatasets(["calexp"], collections: ["run/a"], where: "calexp.airmass > 1.15").map { $0.dataId["visit"] }
                == [2])
        // Over every type, the field's constraint leaves out types without it.
        let all = try await butler.queryDatasets([], collections: ["run/a"], where: "calexp.seeing > 1")
        #expect(all.map(\.datasetType.name) == ["calexp"])
        try await butler.close()
    }

    @Test("fields added to a type with datasets are filled by indexFields, reading only the component needed", arguments: Backend.available)
    func addedLater(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        for visit in 1...3 {
            var calexp = try makeCalexp()
            calexp.metadata.set("SEEING", .double(0.5 * Double(visit)))
            try await butler.put(calexp, "calexp", dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": 0])
        }
        try await butler.registerDatasetType(
            "calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF",
            fields: [try DatasetField(parsing: "seeing:float=metadata.SEEING")])
        // Not indexed yet: NULLs match nothing.
        #expect(try await butler.queryDatasets(["calexp"], collections: ["run/a"], where: "calexp.seeing < 10").isEmpty)
        #expect(try await butler.indexFields("calexp", collections: ["run/a"]) == 3)
        #expect(try await butler.indexFields("calexp", collections: ["run/a"]) == 0)
        #expect(try await butler.indexFields("calexp", collections: ["run/a"], where: "visit = 2", reindex: true) == 1)
        let sharp = try await butler.queryDatasets(["calexp"], collections: ["run/a"], where: "calexp.seeing <= 1.0")
        #expect(sharp.map { $0.dataId["visit"] } == [1, 2])
        // A new put of the widened type takes the field at once.
        var calexp = try makeCalexp()
        calexp.metadata.set("SEEING", .double(0.3))
        let fresh = try await butler.put(calexp, "calexp", dataId: ["instrument": "HSC", "visit": 3, "detector": 1])
        #expect(try await butler.fieldValues(of: [fresh])[fresh.id]?["seeing"] == .double(0.3))
        // Removing the datasets removes their values; removing the type drops its table.
        try await butler.removeRuns(["run/a"])
        try await butler.removeDatasetType("calexp")
        try await butler.close()
    }

    @Test("ingested files have their fields taken right after the ingest", arguments: Backend.available)
    func ingestFields(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType(
            "isr_metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict",
            fields: [try DatasetField(parsing: "background:float")])
        var files: [FileToIngest] = []
        for visit in 1...2 {
            let url = directory.url.appendingPathComponent("m\(visit).json")
            try Data("{\"background\": \(visit * 1000)}".utf8).write(to: url)
            files.append(FileToIngest(url: url, dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": 0]))
        }
        let refs = try await butler.ingest(files, datasetType: "isr_metrics", run: "run/ingest")
        let values = try await butler.fieldValues(of: refs)
        #expect(refs.map { values[$0.id]?["background"] } == [.double(1000), .double(2000)])
        #expect(
            try await butler.queryDatasets(["isr_metrics"], collections: ["run/ingest"], where: "isr_metrics.background > 1500").count == 1)
        try await butler.close()
    }
}

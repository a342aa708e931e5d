import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// Spatial queries against daf_butler itself: the reference (lsst-daf-butler from PyPI) builds a
/// repository of visits, detector regions, tracts and patches in the test run and answers 23
/// spatial queries — joins both ways, a visit × tract join, OVERLAPS with POINT, BOX, POLYGON
/// and REGION. The same records, with the regions exactly as daf_butler stored them, go into a
/// repository here on each engine, and every query must give the same rows.
@Suite("Spatial queries against daf_butler")
struct SpatialOracleTests {
    struct Oracle: Decodable {
        struct Query: Decodable {
            let dimensions: [String]
            let `where`: String
            let rows: [[JSONValue]]
        }
        let records: [String: [[String: JSONValue]]]
        let queries: [Query]
    }

    @Test("daf_butler's regions read here and its spatial queries give the same rows", arguments: Backend.available)
    func sameAnswers(backend: Backend) async throws {
        let work = try TemporaryDirectory()
        let oracle = try JSONDecoder().decode(
            Oracle.self, from: try ReferencePython.run("spatial_oracle.py", ["20261130", work.url.appendingPathComponent("daf").path]))
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run")
        try await butler.insertDimensionRecords("instrument", [["name": "Cam", "visit_max": 1000, "detector_max": 100]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20240101]])
        try await butler.insertDimensionRecords("detector", (0..<9).map { ["instrument": "Cam", "id": .int(Int64($0))] })
        try await butler.insertDimensionRecords("skymap", [["name": "s", "hash": "00"]])
        for element in ["visit", "visit_detector_region", "tract", "patch"] {
            let records = try #require(oracle.records[element])
            try await butler.insertDimensionRecords(element, records)
            // daf_butler's encoding is kept byte for byte.
            let stored = try await butler.dimensionRecords(element)
            #expect(Set(stored.map { $0["region"].stringValue ?? "" }) == Set(records.map { $0["region"]?.stringValue ?? "" }))
        }
        #expect(oracle.queries.count == 23)
        var rows = 0
        for query in oracle.queries {
            let found = try await butler.queryDataIds(query.dimensions, where: query.where)
            let ours = Set(found.map { dataId in query.dimensions.map { "\(dataId[$0]!)" }.joined(separator: "/") })
            let theirs = Set(query.rows.map { row in row.map { $0.stringValue ?? "\($0)" }.joined(separator: "/") })
            #expect(ours == theirs, "\(query.dimensions) where \(query.where)")
            rows += theirs.count
        }
        #expect(rows > 60)
        try await butler.close()
    }
}

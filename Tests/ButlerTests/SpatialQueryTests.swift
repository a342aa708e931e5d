import ButlerTestSupport
import Composites
import Foundation
import Sky
import Testing

@testable import Butler

/// Spatial queries on every engine, checked against a brute-force test of every pair of
/// regions: visits and detectors with polygon regions scattered over a 6° field, a skymap of
/// tracts and patches tiling it, joins both ways, OVERLAPS with each sky function, skypix
/// envelopes, spatially keyed datasets, and the refusal of bad regions and pixels.
@Suite("Spatial queries on every backend")
struct SpatialQueryTests {
    /// A rectangle of `size` degrees around (ra, dec) as a polygon.
    static func square(_ ra: Double, _ dec: Double, _ width: Double, _ height: Double) throws -> Region {
        .polygon(
            try ConvexPolygon(hullOfDegrees: [
                (ra - width / 2, dec - height / 2), (ra + width / 2, dec - height / 2), (ra + width / 2, dec + height / 2),
                (ra - width / 2, dec + height / 2),
            ]))
    }

    struct Field {
        var detectorRegions: [String: Region] = [:]  // "visit/detector"
        var patchRegions: [String: Region] = [:]  // "tract/patch"
    }

    /// Eight visits of nine detectors (0.25° each) at seeded positions in [148°, 152°] × [0°, 4°],
    /// and skymap `s` with tracts 0 and 1 (3° × 4°) of 6 × 8 patches each.
    func makeRepository(_ backend: Backend) async throws -> (Butler, TemporaryDirectory, Field) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run")
        try await TestRepository.insertInstrument(butler, visits: 8, detectors: 9)
        var field = Field()
        var generator = SplitMix64(state: 12)
        var visitRecords: [[String: JSONValue]] = []
        var detectorRecords: [[String: JSONValue]] = []
        for visit in 1...8 {
            let ra = 148.5 + 3 * Double.random(in: 0..<1, using: &generator)
            let dec = 0.5 + 3 * Double.random(in: 0..<1, using: &generator)
            var corners: [UnitVector3d] = []
            for detector in 0..<9 {
                let region = try Self.square(ra + Double(detector % 3 - 1) * 0.25, dec + Double(detector / 3 - 1) * 0.25, 0.24, 0.24)
                field.detectorRegions["\(visit)/\(detector)"] = region
                if case .polygon(let polygon) = region { corners += polygon.vertices }
                detectorRecords.append([
                    "instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector)), "region": .string(region.base64),
                ])
            }
            // The visit's region: the hull of its detectors', given as an IVOA POS string (stored as base64).
            let hull = try ConvexPolygon(hullOf: corners)
            visitRecords.append([
                "instrument": "HSC", "id": .int(Int64(visit)), "name": .string("v\(visit)"), "physical_filter": "HSC-I",
                "day_obs": 20131102, "region": .string(hull.description),
            ])
        }
        try await butler.insertDimensionRecords("visit", visitRecords, mode: .replace)
        try await butler.insertDimensionRecords("visit_detector_region", detectorRecords)
        try await butler.insertDimensionRecords("skymap", [["name": "s", "hash": "00"]])
        var tracts: [[String: JSONValue]] = []
        var patches: [[String: JSONValue]] = []
        for tract in 0..<2 {
            let west = 147.0 + 3 * Double(tract)
            tracts.append(["skymap": "s", "id": .int(Int64(tract)), "region": .string(try Self.square(west + 1.5, 2, 3, 4).base64)])
            for patch in 0..<48 {
                let x = patch % 6, y = patch / 6
                let region = try Self.square(west + 0.25 + 0.5 * Double(x), 0.25 + 0.5 * Double(y), 0.5, 0.5)
                field.patchRegions["\(tract)/\(patch)"] = region
                patches.append(["skymap": "s", "tract": .int(Int64(tract)), "id": .int(Int64(patch)), "region": .string(region.base64)])
            }
        }
        try await butler.insertDimensionRecords("tract", tracts)
        try await butler.insertDimensionRecords("patch", patches)
        return (butler, directory, field)
    }

    static func keys(_ dataIds: [DataCoordinate], _ first: String, _ second: String) -> Set<String> {
        Set(dataIds.map { "\($0[first]!)/\($0[second]!)" })
    }

    @Test("joins both ways, OVERLAPS with every sky function, record queries: equal to a brute-force check", arguments: Backend.available)
    func joinsAgreeWithBruteForce(backend: Backend) async throws {
        let (butler, directory, field) = try await makeRepository(backend)
        defer { _ = directory }
        var checked = 0
        var matched = 0  // so that the checks cannot pass on empty answers
        // Detector → patches, for every detector of three visits.
        for visit in [1, 4, 7] {
            for detector in 0..<9 {
                let region = field.detectorRegions["\(visit)/\(detector)"]!
                let expected = Set(field.patchRegions.filter { $0.value.overlaps(region) != false }.keys)
                let found = try await butler.queryDataIds(
                    ["tract", "patch"], where: "instrument = 'HSC' AND visit = \(visit) AND detector = \(detector)")
                #expect(Self.keys(found, "tract", "patch") == expected, "visit \(visit) detector \(detector)")
                checked += 1
                matched += expected.count
            }
        }
        // Patch → detectors, for a spread of patches.
        for (tract, patch) in [(0, 0), (0, 20), (0, 47), (1, 3), (1, 26), (1, 40)] {
            let region = field.patchRegions["\(tract)/\(patch)"]!
            let expected = Set(field.detectorRegions.filter { $0.value.overlaps(region) != false }.keys)
            let found = try await butler.queryDataIds(
                ["visit", "detector"], where: "skymap = 's' AND tract = \(tract) AND patch = \(patch)")
            #expect(Self.keys(found, "visit", "detector") == expected, "tract \(tract) patch \(patch)")
            // A band constraint goes through each visit's filter, not a free band dimension
            // (every visit here is HSC-I, band i).
            let inBand = try await butler.queryDataIds(
                ["visit", "detector"], where: "skymap = 's' AND tract = \(tract) AND patch = \(patch) AND band = 'i'")
            let otherBand = try await butler.queryDataIds(
                ["visit", "detector"], where: "skymap = 's' AND tract = \(tract) AND patch = \(patch) AND band = 'r'")
            #expect(Self.keys(inBand, "visit", "detector") == expected && otherBand.isEmpty, "band-constrained join, patch \(patch)")
            checked += 1
            matched += expected.count
        }
        // Every detector × patch pair at once.
        let pairs = try await butler.queryDataIds(["visit", "detector", "tract", "patch"], where: "skymap = 's'")
        let expectedPairs = Set(
            field.detectorRegions.flatMap { detector in
                field.patchRegions.filter { $0.value.overlaps(detector.value) != false }.map { "\(detector.key)/\($0.key)" }
            })
        #expect(Set(pairs.map { "\($0["visit"]!)/\($0["detector"]!)/\($0["tract"]!)/\($0["patch"]!)" }) == expectedPairs)
        #expect(!expectedPairs.isEmpty)
        // OVERLAPS with each of daf_butler's sky functions.
        let constraints: [(String, SkyConstraint)] = [
            ("POINT(150.1, 2.2)", .point(try LonLat(lonDegrees: 150.1, latDegrees: 2.2))),
            ("CIRCLE(149.7, 1.6, 0.4)", .region(.circle(try Circle(lonDegrees: 149.7, latDegrees: 1.6, radiusDegrees: 0.4)))),
            (
                "BOX(150.5, 2.5, 1, 0.5)",
                .region(
                    .box(try Box(center: try LonLat(lonDegrees: 150.5, latDegrees: 2.5), halfWidthDegrees: 0.5, halfHeightDegrees: 0.25)))
            ),
            ("POLYGON(149, 1, 151, 1.5, 150, 3)", .region(.polygon(try ConvexPolygon(hullOfDegrees: [(149, 1), (151, 1.5), (150, 3)])))),
            ("REGION('CIRCLE 151 3 0.3')", .region(try Region(ivoaPOS: "CIRCLE 151 3 0.3"))),
        ]
        for (text, constraint) in constraints {
            let expected = Set(field.detectorRegions.filter { constraint.isOverlapped(by: $0.value) }.keys)
            let found = try await butler.queryDataIds(["visit", "detector"], where: "visit_detector_region.region OVERLAPS \(text)")
            #expect(Self.keys(found, "visit", "detector") == expected, "\(text)")
            let reversed = try await butler.queryDataIds(["visit", "detector"], where: "\(text) OVERLAPS visit_detector_region.region")
            #expect(Self.keys(reversed, "visit", "detector") == expected, "\(text) reversed")
            let patches = Set(field.patchRegions.filter { constraint.isOverlapped(by: $0.value) }.keys)
            let bound = try await butler.queryDataIds(
                ["patch"], where: "patch.region OVERLAPS :r AND skymap = 's'", bind: ["r": .sky(constraint)])
            #expect(Self.keys(bound, "tract", "patch") == patches, "\(text) bound")
            checked += 3
            matched += expected.count + patches.count
        }
        #expect(checked == 48 && matched > 100, "\(checked) checks, \(matched) matches")
        // Records: the detectors of visit 3 that overlap a point (daf_butler's example form).
        let point = try LonLat(lonDegrees: 150.1, latDegrees: 2.2)
        let detectors = try await butler.dimensionRecords(
            "detector", where: "visit_detector_region.region OVERLAPS POINT(150.1, 2.2)")
        let expectedDetectors = Set(
            field.detectorRegions.filter { $0.value.contains(point) }.keys.map { Int64($0.split(separator: "/")[1])! })
        #expect(Set(detectors.compactMap { $0["id"].intValue }) == expectedDetectors)
        // A spatially keyed dataset type: coadds of the patches detector 4 of visit 2 overlaps.
        try await butler.registerDatasetType(
            "deepCoadd", dimensions: ["skymap", "tract", "patch", "band"], storageClass: "StructuredDataDict")
        for key in field.patchRegions.keys {
            let parts = key.split(separator: "/").map { Int64($0)! }
            try await butler.put(
                ["n": JSONValue.int(parts[1])], "deepCoadd",
                dataId: ["skymap": "s", "tract": .int(parts[0]), "patch": .int(parts[1]), "band": "i"])
        }
        let coadds = try await butler.queryDatasets(
            ["deepCoadd"], collections: ["run"], where: "instrument = 'HSC' AND visit = 2 AND detector = 4")
        let region = field.detectorRegions["2/4"]!
        #expect(
            Self.keys(coadds.map(\.dataId), "tract", "patch") == Set(field.patchRegions.filter { $0.value.overlaps(region) != false }.keys))
        #expect(coadds.count == Set(coadds.map(\.id)).count)
        try await butler.close()
    }

    @Test("skypix: pixels of an envelope, joins at the common level, range checks; bad regions named", arguments: Backend.available)
    func skypixAndBadInput(backend: Backend) async throws {
        let (butler, directory, field) = try await makeRepository(backend)
        defer { _ = directory }
        let circle = Region.circle(try Circle(lonDegrees: 150.1, latDegrees: 2.2, radiusDegrees: 0.1))
        let htm9 = try HTMPixelization(level: 9)
        let pixels = try await butler.queryDataIds(["htm9"], where: "htm9 OVERLAPS CIRCLE(150.1, 2.2, 0.1)")
        let expected = htm9.envelope(circle).ranges.flatMap { ($0.0..<$0.1).map { Int64($0) } }
        #expect(pixels.map { $0["htm9"]!.intValue! } == expected && !expected.isEmpty)
        // HEALPix levels list sphgeom's HealpixPixelization envelope (checked against it in
        // HEALPixCoveringTests); a point names its one pixel.
        let healpixPixels = try await butler.queryDataIds(["healpix10"], where: "healpix10 OVERLAPS CIRCLE(150.1, 2.2, 0.1)")
        let healpix10 = try HEALPixNested(order: 10)
        let healpixExpected = try healpix10.envelope(circle).ranges.flatMap { ($0.0..<$0.1).map { Int64($0) } }
        #expect(healpixPixels.map { $0["healpix10"]!.intValue! } == healpixExpected && healpixExpected.count > 4)
        let centre = try await butler.queryDataIds(["healpix10"], where: "healpix10 OVERLAPS POINT(150.1, 2.2)")
        #expect(centre.map { $0["healpix10"]!.intValue! } == [try healpix10.pixel(lonDegrees: 150.1, latDegrees: 2.2)])
        // The common level joins the overlap rows: htm7 pixels of visit 5's detector 0.
        let htm7 = try await butler.queryDataIds(["htm7"], where: "htm7 OVERLAPS POINT(150.1, 2.2)")
        #expect(htm7.count == 1)
        let joined = try await butler.queryDataIds(["htm7", "visit", "detector"], where: "visit = 5 AND detector = 0")
        let common = try HTMPixelization(level: 7)
        #expect(
            Set(joined.map { UInt64($0["htm7"]!.intValue!) })
                == Set(common.envelope(field.detectorRegions["5/0"]!).ranges.flatMap { $0.0..<$0.1 }))
        // Pixel values are range-checked.
        let outOfRange = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("shard", dimensions: ["htm7"], storageClass: "StructuredDataDict")
            try await butler.put(["n": JSONValue.int(1)], "shard", dataId: ["htm7": 99_999_999_999])
        }
        #expect("\(outOfRange!)".contains("htm7=99999999999 is not a pixel of htm7"))
        // A region that is not one is refused, naming the record.
        let bad = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords("tract", [["skymap": "s", "id": 7, "region": "CIRCLE 10 20"]])
        }
        #expect("\(bad!)".contains("tract record") && "\(bad!)".contains("CIRCLE requires 3 numbers"))
        let garbage = await #expect(throws: ButlerError.self) {
            try await butler.insertDimensionRecords("tract", [["skymap": "s", "id": 8, "region": "bm90IGEgcmVnaW9u"]])
        }
        #expect("\(garbage!)".contains("field 'region' is not a region"))
        // Bad sky functions and misplaced OVERLAPS are named.
        for (expression, message) in [
            ("visit_detector_region.region OVERLAPS POINT(150, 95)", "latitude 95"),
            ("visit_detector_region.region OVERLAPS CIRCLE(150, 2)", "CIRCLE takes three numbers"),
            ("visit_detector_region.region OVERLAPS POLYGON(1, 1, 2, 2)", "POLYGON takes three or more vertices"),
            ("visit = 1 OR visit_detector_region.region OVERLAPS POINT(150, 2)", "top-level AND"),
            ("detector.region OVERLAPS POINT(150, 2)", "has no region"),
        ] {
            let error = await #expect(throws: ButlerError.self, "\(expression)") {
                try await butler.queryDataIds(["visit", "detector"], where: expression)
            }
            #expect(error.map { "\($0)".contains(message) } == true, "\(expression): \(String(describing: error))")
        }
        try await butler.close()
    }

    @Test("a version-4 repository's regions become sphgeom base64 with overlap rows on upgrade", arguments: Backend.available)
    func upgradeConvertsRegions(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run")
        try await TestRepository.insertInstrument(butler, visits: 2, detectors: 1)
        try await butler.registry.database.write { session in
            for element in butler.registry.universe.spatialElements {
                try session.execute("DROP TABLE \(DimensionUniverse.overlapTable(element.name))")
            }
            // What version 4 stored: region text as given.
            try session.execute("UPDATE dim_visit SET region = 'CIRCLE 150 2 0.5' WHERE id = 1")
            try session.execute("UPDATE butler_attributes SET value = '4' WHERE name = 'schema_version'")
        }
        try await butler.close()
        let reader = try await Butler(repository: directory.url, writeable: false)
        await #expect(throws: ButlerError.self) { try await reader.queryDataIds(["visit"], where: "visit.region OVERLAPS POINT(150, 2)") }
        try await reader.close()
        let writer = try await Butler(repository: directory.url)
        let found = try await writer.queryDataIds(["visit"], where: "visit.region OVERLAPS POINT(150, 2.4)")
        #expect(found.map { $0["visit"] } == [1])
        let record = try await writer.dimensionRecords("visit", where: "visit = 1").first
        #expect(try Region(base64: record?["region"].stringValue ?? "") == Region(ivoaPOS: "CIRCLE 150 2 0.5"))
        try await writer.close()
    }
}

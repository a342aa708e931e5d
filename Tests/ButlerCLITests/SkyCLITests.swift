import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps
import Testing

@Suite("butler ingest-raws regions, define-visits and spatial queries")
struct SkyCLITests {
    /// A 100 × 80 raw of 0.2″ pixels whose centre is at (ra, dec).
    static func raw(exposure: Int, detector: Int, ra: Double, dec: Double, group: String) -> Exposure<Float> {
        var metadata = Metadata()
        metadata.set("INSTRUME", "LATISS")
        metadata.set("EXPID", .int(Int64(exposure)))
        metadata.set("DETECTOR", .int(Int64(detector)))
        metadata.set("FILTER", "SDSSr")
        metadata.set("DATE-OBS", .string(String(format: "2026-11-23T03:%02d:00.0", exposure % 60)))
        metadata.set("EXPTIME", .double(15))
        let scale = 0.2 / 3600
        let wcs = Wcs(crpix: Point2D(49.5, 39.5), crval: SpherePoint(ra: ra, dec: dec), cd: [[-scale, 0], [0, scale]])
        return Exposure(
            maskedImage: MaskedImage<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(100, 80))), wcs: wcs, metadata: metadata)
    }

    @Test("raw regions from their WCS, visits from exposures, joins by region, a refitted WCS moves the region")
    func regionsFromTheData() async throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        var paths: [String] = []
        // Two exposures of two detectors side by side (20″ apart), the second exposure 1′ east.
        for exposure in [101, 102] {
            for detector in [0, 1] {
                let ra = 150 + Double(exposure - 101) / 60 + Double(detector) * 20.0 / 3600
                let path = directory.url.appendingPathComponent("raw_\(exposure)_\(detector).fits").path
                try ExposureFITS.write(Self.raw(exposure: exposure, detector: detector, ra: ra, dec: 2, group: "g"), to: path)
                paths.append(path)
            }
        }
        let ingested = try butler(["ingest-raws", repo] + paths)
        #expect(ingested.status == 0, "\(ingested.stderr)")
        // Each raw's region is its pixel box through its WCS (20″ × 16″ around the centre).
        let regions = try json(butler("query-dimension-records", repo, "exposure_detector_region", "--json").stdout)
        #expect(regions.count == 4)
        let first = try Region(base64: regions.first?["region"] as? String ?? "")
        let centre = try LonLat(lonDegrees: 150, latDegrees: 2), outside = try LonLat(lonDegrees: 150.01, latDegrees: 2)
        #expect(first.contains(centre) && !first.contains(outside))
        let defined = try butler("define-visits", repo, "LATISS")
        #expect(
            defined.status == 0 && defined.stdout.contains("Defined 2 visit(s) of LATISS: 101, 102"), "\(defined.stdout)\(defined.stderr)")
        #expect(try butler("define-visits", repo, "LATISS").stdout.contains("all already defined"))
        // Which detectors see a point, which visits overlap a circle.
        let seen = try json(
            butler(
                "query-data-ids", repo, "visit", "detector", "--where",
                "instrument = 'LATISS' AND visit_detector_region.region OVERLAPS POINT(150.0055, 2)", "--json"
            ).stdout)
        #expect(seen.map { "\($0["visit"]!)/\($0["detector"]!)" } == ["101/1"])
        let visits = try json(
            butler("query-data-ids", repo, "visit", "--where", "visit.region OVERLAPS CIRCLE(150.0167, 2, 0.001)", "--json").stdout)
        #expect(visits.map { "\($0["visit"]!)" } == ["102"])
        let pixels = try json(butler("query-data-ids", repo, "htm11", "--where", "htm11 OVERLAPS CIRCLE(150, 2, 0.01)", "--json").stdout)
        #expect(!pixels.isEmpty)
        // A region bound on the command line as an IVOA POS string.
        let bound = try json(
            butler("query-data-ids", repo, "visit", "--where", "visit.region OVERLAPS :r", "--bind", "r=CIRCLE 150.0167 2 0.001", "--json")
                .stdout)
        #expect(bound.map { "\($0["visit"]!)" } == ["102"])
        // A refitted WCS for visit 101 detector 0, 30″ north: the region moves with the put.
        let api = try await Butler(repository: URL(fileURLWithPath: repo))
        try await api.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        try await api.registerDatasetType("calexp.wcs", dimensions: ["visit", "detector"], storageClass: "Wcs")
        let dataId: DataId = ["instrument": "LATISS", "visit": 101, "detector": 0]
        var calexp = Self.raw(exposure: 101, detector: 0, ra: 150, dec: 2, group: "g")
        calexp.metadata = Metadata()
        try await api.put(calexp, "calexp", dataId: dataId, run: "calib")
        var refit = calexp.wcs!
        refit.crval = SpherePoint(ra: 150, dec: 2 + 30.0 / 3600)
        try await api.put(refit, "calexp.wcs", dataId: dataId, run: "fit")
        let moved = try await api.queryDataIds(["visit", "detector"], where: "visit_detector_region.region OVERLAPS POINT(150, 2.0083)")
        #expect(moved.map { "\($0["visit"]!)/\($0["detector"]!)" } == ["101/0"])
        let gone = try await api.queryDataIds(["visit", "detector"], where: "visit_detector_region.region OVERLAPS POINT(150, 1.9995)")
        #expect(gone.isEmpty)
        // The visit's region follows its detectors'.
        #expect(try await api.queryDataIds(["visit"], where: "visit.region OVERLAPS POINT(150, 2.0083)").map { $0["visit"] } == [101])
        try await api.close()
        // Bad input: an unknown visit system, an instrument without exposures.
        #expect(try butler("define-visits", repo, "LATISS", "--visit-system", "nightly").status != 0)
        let none = try butler("define-visits", repo, "HSC")
        #expect(none.status != 0 && none.stderr.contains("no science exposure of HSC"))
    }

    @Test("ingest-refcat shards a CSV by htm7; query-refcat lists a circle's rows, as JSON or into a FITS file")
    func referenceCatalogs() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        var csv = "ra,dec,flux\n"
        for index in 0..<400 { csv += "\(150 + Double(index % 20) * 0.05),\(2 + Double(index / 20) * 0.05),\(index)\n" }
        let file = directory.url.appendingPathComponent("refcat.csv")
        try csv.write(to: file, atomically: true, encoding: .utf8)
        let ingested = try butler("ingest-refcat", repo, "gaia", file.path, "--run", "refcats/gaia/v1")
        #expect(ingested.status == 0 && ingested.stdout.contains("Ingested 400 row(s)"), "\(ingested.stdout)\(ingested.stderr)")
        let rows = try json(
            butler("query-refcat", repo, "gaia", "--collections", "refcats/gaia/v1", "--circle", "150.25,2.25,0.06", "--json").stdout)
        // Grid points within 0.06° of the centre: the centre and its four neighbours 0.05° away.
        #expect(rows.count == 5 && rows.allSatisfy { $0["ra"] != nil && $0["dec"] != nil && $0["flux"] != nil })
        let out = directory.url.appendingPathComponent("near.fits").path
        let written = try butler(
            "query-refcat", repo, "gaia", "--collections", "refcats/gaia/v1", "--circle", "150.25,2.25,0.06", "-o", out)
        let nearRows = try FITSCatalog.read(from: out).count
        #expect(written.status == 0 && nearRows == 5)
        let bad = directory.url.appendingPathComponent("bad.csv")
        try "ra,dec\n1,x\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try butler("ingest-refcat", repo, "gaia", bad.path)
        #expect(refused.status != 0 && refused.stderr.contains("bad.csv row 2 column dec"))
        #expect(try butler("query-refcat", repo, "gaia", "--circle", "1,2").status != 0)
    }

    @Test("register-skymap writes tracts and patches from a YAML definition; the spatial join relates them to visits both ways")
    func registerSkyMap() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        var paths: [String] = []
        for exposure in [101, 102] {
            let path = directory.url.appendingPathComponent("raw_\(exposure).fits").path
            try ExposureFITS.write(
                Self.raw(exposure: exposure, detector: 0, ra: 150 + Double(exposure - 101) * 0.3, dec: 2, group: "g"), to: path)
            paths.append(path)
        }
        #expect(try butler(["ingest-raws", repo] + paths).status == 0)
        #expect(try butler("define-visits", repo, "LATISS").status == 0)
        let config = directory.url.appendingPathComponent("skymap.yaml")
        try """
        skyMap: discrete
        raList: [150.0]
        decList: [2.0]
        radiusList: [0.5]
        projection: TAN
        pixelScale: 1.0
        tractOverlap: 0.05
        patchInnerDimensions: [500, 500]
        patchBorder: 20
        """.write(to: config, atomically: true, encoding: .utf8)
        let registered = try butler("register-skymap", repo, "field", "--config", config.path)
        #expect(registered.status == 0 && registered.stdout.contains("Registered skymap field"), "\(registered.stdout)\(registered.stderr)")
        #expect(try butler("register-skymap", repo, "field", "--config", config.path).stdout.contains("already registered"))
        // The skymap's own answer: the patches whose outer polygons meet visit 101's detector.
        let skymap = try SkyMap(try YAMLSupport.decode(SkyMapConfiguration.self, from: String(contentsOf: config, encoding: .utf8)))
        let tract = try skymap.tract(0)
        let records = try json(butler("query-dimension-records", repo, "visit_detector_region", "--json").stdout)
        let detector = try #require(records.first { ($0["visit"] as? Int) == 101 })
        let region = try Region(base64: detector["region"] as? String ?? "")
        let expected = try tract.patches.filter { try $0.outerRegion.overlaps(region) != false }.map(\.sequentialIndex)
        let patches = try json(
            butler("query-data-ids", repo, "tract", "patch", "--where", "instrument = 'LATISS' AND visit = 101 AND detector = 0", "--json")
                .stdout)
        #expect(!expected.isEmpty && patches.compactMap { $0["patch"] as? Int }.sorted() == expected.sorted())
        // And back: the detectors over one of those patches.
        let back = try json(
            butler(
                "query-data-ids", repo, "visit", "detector", "--where", "skymap = 'field' AND tract = 0 AND patch = \(expected[0])",
                "--json"
            ).stdout)
        #expect(back.contains { ($0["visit"] as? Int) == 101 })
        // Patches of a tract are iterable.
        let all = try json(butler("query-data-ids", repo, "patch", "--where", "skymap = 'field' AND tract = 0", "--json").stdout)
        #expect(all.count == tract.patchCount)
        // Packed tract/patch IDs, and back.
        let packed = try json(
            butler("pack-data-ids", repo, "tract_patch", "--data-id", "skymap=field", "--where", "tract = 0 AND patch < 3", "--json").stdout
        )
        let patchCount = tract.patchCountX * tract.patchCountY
        #expect(packed.compactMap { $0["packed"] as? Int }.sorted() == [0, 1, 2] && patchCount > 2)
        let unpacked = try json(butler("pack-data-ids", repo, "tract_patch", "--data-id", "skymap=field", "--unpack", "2", "--json").stdout)
        #expect(unpacked.first?["patch"] as? Int == 2 && unpacked.first?["tract"] as? Int == 0)
        let outside = try butler("pack-data-ids", repo, "tract_patch", "--data-id", "skymap=field", "--unpack", "\(patchCount)")
        #expect(outside.status != 0 && outside.stderr.contains("\(patchCount) is not a packed tract/patch ID of skymap field"))
        // Bad definitions are refused by name, and nothing is written.
        for (text, message) in [
            ("skyMap: rings\nnumRings: 0\n", "numRings 0"), ("skyMap: rings\nnumRings: 3\nnumRing: 4\n", "numRing"),
            ("skyMap: rings\nnumRings: 3\npatchInnerDimensions: [100, 100]\npatchBorder: 100\n", "patchBorder 100"),
        ] {
            try text.write(to: config, atomically: true, encoding: .utf8)
            let refused = try butler("register-skymap", repo, "bad", "--config", config.path)
            #expect(refused.status != 0 && refused.stderr.contains(message) && refused.stderr.contains("skymap.yaml"), "\(refused.stderr)")
        }
        try "skyMap: discrete\nraList: [150.0]\ndecList: [2.0]\nradiusList: [0.6]\n".write(to: config, atomically: true, encoding: .utf8)
        let conflict = try butler("register-skymap", repo, "field", "--config", config.path)
        #expect(conflict.status != 0 && conflict.stderr.contains("field") && conflict.stderr.contains("hash"), "\(conflict.stderr)")
        #expect(try json(butler("query-dimension-records", repo, "skymap", "--json").stdout).count == 1)
        // -c FIELD=VALUE overrides the file, as daf_butler's register-skymap does: a rings skymap
        // with three rings, its tract count the skymap's own.
        try "skyMap: rings\nnumRings: 120\n".write(to: config, atomically: true, encoding: .utf8)
        let rings = try butler(
            "register-skymap", repo, "coarse", "--config", config.path, "-c", "numRings=3", "-c", "pixelScale=60", "-c",
            "patchInnerDimensions=[400, 400]")
        let coarse = try SkyMap(
            try YAMLSupport.decode(
                SkyMapConfiguration.self, from: "skyMap: rings\nnumRings: 3\npixelScale: 60\npatchInnerDimensions: [400, 400]\n"))
        #expect(rings.status == 0 && rings.stdout.contains("\(coarse.tractCount) tracts"), "\(rings.stdout)\(rings.stderr)")
        let badOverride = try butler("register-skymap", repo, "coarse2", "--config", config.path, "-c", "numRings")
        #expect(badOverride.status != 0 && badOverride.stderr.contains("FIELD=VALUE"), "\(badOverride.stderr)")
        let badValue = try butler("register-skymap", repo, "coarse2", "--config", config.path, "-c", "numRings=0")
        #expect(badValue.status != 0 && badValue.stderr.contains("numRings 0"), "\(badValue.stderr)")
    }
}

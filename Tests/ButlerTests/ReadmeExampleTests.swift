import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@Suite("README example")
struct ReadmeExampleTests {
    @Test("the API example in the README runs as written")
    func readmeExample() async throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo")
        try await Butler.createRepository(at: repo)
        let butler = try await Butler(repository: repo, collections: ["HSC/defaults"], run: "u/me/test")

        try await butler.insertDimensionRecords("instrument", [["name": "HSC"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "HSC", "name": "HSC-I", "band": "i"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "HSC", "id": 20131102]])
        try await butler.insertDimensionRecords("detector", [["instrument": "HSC", "id": 16]])
        try await butler.insertDimensionRecords(
            "visit",
            [
                [
                    "instrument": "HSC", "id": 903334,
                    "physical_filter": "HSC-I", "day_obs": 20131102, "exposure_time": 30,
                ]
            ])
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")

        let dataId: DataId = ["instrument": "HSC", "visit": 903334, "detector": 16]
        let ref = try await butler.put(["seeing": 0.71, "nStars": 1204], "metrics", dataId: dataId)
        let metrics = try await butler.get("metrics", dataId: dataId, collections: ["u/me/test"], as: [String: Double].self)
        #expect(metrics == ["seeing": 0.71, "nStars": 1204])
        let same = try await butler.get(ref) as? [String: JSONValue]
        #expect(same?["nStars"]?.doubleValue == 1204)
        let iBand = try await butler.queryDatasets(
            ["metrics"], collections: ["u/me/test"], where: "band = 'i' AND visit.exposure_time > 10")
        #expect(iBand == [ref])
        let batch = try await butler.put(contentsOf: [DatasetToPut(["seeing": 0.74], "metrics", dataId: dataId)], run: "u/me/batch")
        #expect(try await butler.get(batch[0], as: [String: Double].self) == ["seeing": 0.74])

        let file = directory.url.appendingPathComponent("calexp.fits").path
        try ExposureFITS.write(try makeCalexp(width: 400, height: 500, xy0: Point2I(0, 0)), to: file)
        try await butler.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        let calexp = try ExposureFITS.read(Float.self, from: file)
        try await butler.put(calexp, "calexp", dataId: dataId)
        let cutout = try await butler.get(
            "calexp", dataId: dataId, collections: ["u/me/test"],
            parameters: ["bbox": [100, 200, 355, 455]], as: ExposureF.self)
        #expect(cutout == (try calexp.subimage(Box2I(x0: 100, y0: 200, x1: 355, y1: 455))))

        var refittedWcs = try #require(calexp.wcs)
        refittedWcs.crpix = Point2D(1, 1)
        try await butler.registerDatasetType("calexp.wcs", dimensions: ["visit", "detector"], storageClass: "Wcs")
        try await butler.put(refittedWcs, "calexp.wcs", dataId: dataId, run: "u/me/fit")
        let wcs = try await butler.get("calexp.wcs", dataId: dataId, collections: ["u/me/fit", "u/me/test"], as: Wcs.self)
        let refreshed = try await butler.get("calexp", dataId: dataId, collections: ["u/me/fit", "u/me/test"], as: ExposureF.self)
        let pixels = try await butler.get("calexp", dataId: dataId, collections: ["u/me/test"], as: PixelArray<Float>.self)
        #expect(wcs == refittedWcs && refreshed.wcs == refittedWcs && pixels.shape == [500, 400])

        // Times.
        try await butler.insertDimensionRecords(
            "exposure",
            [
                [
                    "instrument": "HSC", "id": 100, "obs_id": "HSC100",
                    "physical_filter": "HSC-I", "day_obs": 20131102,
                    "timespan": ["begin": "2013-11-02T10:00:00", "end": "2013-11-02T10:00:30"],
                ]
            ])
        let r = try await butler.queryDatasets(
            ["metrics"], collections: ["u/me/test"], where: "band = :b AND visit IN (900..1000:2)", bind: ["b": "r"])
        #expect(r.isEmpty)
        let night = try Timespan.dayObs(20131102)
        let inside = night.contains(try AstroTime("2013-11-02T10:00:15"))
        #expect(inside)
        try await butler.close()
    }
}

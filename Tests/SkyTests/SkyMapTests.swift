import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps
import Testing

@Suite("Skymaps: rings and discrete tracts, patches, lookups")
struct SkyMapTests {
    static let hsc = try! SkyMap(.hscRings)

    @Test("HSC's rings skymap has 18,938 tracts of 9 × 9 patches, centred where the survey's tracts are")
    func hscReferenceValues() throws {
        let skymap = Self.hsc
        #expect(skymap.tractCount == 18938)
        let cosmos = try skymap.tract(9813)
        #expect(abs(cosmos.center.lonDegrees - 150.2479338842975) < 1e-12)
        #expect(abs(cosmos.center.latDegrees - 2.2314049586776834) < 1e-12)
        let equator = try skymap.tract(9712)
        #expect(abs(equator.center.lonDegrees - 0) < 1e-12 || abs(equator.center.lonDegrees - 360) < 1e-12)
        #expect(abs(equator.center.latDegrees - 0.7438016528925696) < 1e-12)
        #expect(cosmos.patchCountX == 9 && cosmos.patchCountY == 9)
        #expect(cosmos.bbox == Box2I(x0: 0, y0: 0, x1: 35999, y1: 35999))
        // COSMOS (150.12°, 2.21°) is found in its tract, and the version-1 numbering differs.
        let point = try LonLat(lonDegrees: 150.12, latDegrees: 2.21)
        #expect(skymap.findTractID(point) == 9813)
        var current = SkyMapConfiguration.hscRings
        current.version = 1
        #expect(try SkyMap(current).findTractID(point) == 9813)
        #expect(
            try SkyMap(current).findTractID(try LonLat(lonDegrees: 0.01, latDegrees: 0.7))
                != skymap.findTractID(try LonLat(lonDegrees: 0.01, latDegrees: 0.7)))
    }

    @Test(
        "10⁵ random points: the tract found holds the point in its inner region, and so does the patch found (both versions, TAN and STG)")
    func roundTrip() throws {
        var random = SplitMix64(state: 20261130)
        var stg = SkyMapConfiguration.rings(numRings: 60, projection: .stereographic, pixelScale: 0.4, tractOverlap: 0.5, raStart: 12.5)
        stg.patchInnerDimensions = [3000, 2000]
        for skymap in [Self.hsc, try SkyMap(stg)] {
            for _ in 0..<50_000 {
                let z = Double.random(in: -1...1, using: &random)
                let point = try LonLat(lonRadians: Double.random(in: 0..<(2 * .pi), using: &random), latRadians: asin(z))
                let tract = try skymap.findTract(point)
                if skymap.configuration.version == 0, tract.id == skymap.tractCount - 1, !tract.contains(point) {
                    // Version 0 has no tract for the last ring's first RA step (lsst.skymap sends
                    // those points to the north cap); the point is in that ring's RA = raStart tract.
                    #expect(point.latDegrees > 85 && (point.lonDegrees < 20 || point.lonDegrees > 340))
                    continue
                }
                #expect(tract.innerRegion.contains(point), "tract \(tract.id) inner region holds \(point)")
                #expect(tract.contains(point))
                let patch = try tract.findPatch(point)
                let pixel = tract.wcs.skyToPixel(SpherePoint(ra: point.lonDegrees, dec: point.latDegrees))
                let nearest = Point2I(Int((pixel.x + 0.5).rounded(.down)), Int((pixel.y + 0.5).rounded(.down)))
                #expect(patch.innerBBox.contains(nearest), "patch \(patch.sequentialIndex) of tract \(tract.id) holds pixel \(nearest)")
                if skymap.configuration.projection == .gnomonic, abs(pixel.x - pixel.x.rounded()) < 0.49,
                    abs(pixel.y - pixel.y.rounded()) < 0.49
                {
                    // TAN maps pixel edges to great circles: the inner polygon holds the point.
                    #expect(try patch.innerRegion.contains(point))
                }
                let found = try skymap.findTractPatchList([point])
                #expect(found.contains { $0.tract.id == tract.id && $0.patches.contains { $0.sequentialIndex == patch.sequentialIndex } })
            }
        }
    }

    @Test("the example configuration examples/skymaps/hsc_rings_v1.yaml is HSC's skymap")
    func exampleConfiguration() throws {
        let file = ReferencePython.root.appendingPathComponent("examples/skymaps/hsc_rings_v1.yaml")
        let configuration = try YAMLSupport.decode(SkyMapConfiguration.self, from: String(contentsOf: file, encoding: .utf8))
        #expect(configuration == .hscRings)
        #expect(try SkyMap(configuration).hash == Self.hsc.hash)
    }

    @Test("the version-0 numbering repeats the first ring's first tract and skips the last ring's")
    func versionZero() throws {
        let v0 = Self.hsc
        var config = SkyMapConfiguration.hscRings
        config.version = 1
        let v1 = try SkyMap(config)
        #expect(v0.tractCount == v1.tractCount)
        // Ring 0's last tract in version 0 is its first again: the next tract at RA 0 is in ring 0.
        let first = try v0.tract(1)
        let next = try (2..<40).map { try v0.tract($0) }.first { $0.center.lon == 0 }
        #expect(next?.center == first.center)
        let nextV1 = try (2..<40).map { try v1.tract($0) }.first { $0.center.lon == 0 }
        #expect(nextV1 != nil && nextV1!.center.lat > first.center.lat)
        // Away from RA = 0 the two numberings agree.
        let point = try LonLat(lonDegrees: 200, latDegrees: -30)
        #expect(v0.findTractID(point) == v1.findTractID(point))
    }

    @Test("a discrete skymap puts square tracts at its centres, and region lookups agree with point lookups")
    func discrete() throws {
        let skymap = try SkyMap(
            .discrete(
                tracts: [(150.1, 2.2, 0.8), (10, -45, 0.5)], projection: .gnomonic, pixelScale: 0.2, tractOverlap: 0.02,
                patchInnerDimensions: [4000, 4000]))
        #expect(skymap.tractCount == 2)
        let point = try LonLat(lonDegrees: 150.3, latDegrees: 2.0)
        #expect(skymap.findTractID(point) == 0)
        let tract = try skymap.tract(0)
        #expect(tract.innerRegion.contains(point))
        // The box spans radius + overlap each way, grown to whole patches.
        #expect(tract.bbox.width >= Int((2 * 0.82 * 3600 / 0.2).rounded(.down)) && tract.bbox.width % 4000 == 0)
        let circle = Region.circle(try Circle(center: UnitVector3d(point), openingAngle: 0.05 * .pi / 180))
        let overlapping = try skymap.findTractPatchList(overlapping: circle)
        #expect(overlapping.map(\.tract.id) == [0])
        let patch = try tract.findPatch(point)
        #expect(overlapping[0].patches.contains(patch))
        for candidate in overlapping[0].patches { #expect(try candidate.outerRegion.overlaps(circle) != false) }
    }

    @Test("impossible configurations and lookups are refused by name")
    func badInput() throws {
        #expect(throws: SkyError.self) { try SkyMap(.rings(numRings: 0)) }
        #expect(throws: SkyError.self) { try SkyMap(.rings(numRings: 10, pixelScale: .nan)) }
        #expect(throws: SkyError.self) { try SkyMap(.rings(numRings: 10, patchInnerDimensions: [100, 100], patchBorder: 100)) }
        #expect(throws: SkyError.self) { try SkyMap(.discrete(tracts: [(10, 95, 1)])) }
        do {
            _ = try Self.hsc.tract(18938)
            Issue.record("tract 18938 accepted")
        } catch let error as SkyError {
            #expect(error.message.contains("18938"))
        }
        #expect(throws: SkyError.self) { try Self.hsc.tract(9813).patch(81) }
        #expect(throws: SkyError.self) { try Self.hsc.tract(9813).findPatch(try LonLat(lonDegrees: 10, latDegrees: 10)) }
    }

    @Test("tract WCSs map pixels to the sky as astropy's TAN and STG do, and the skymap hash is lsst.skymap's recipe")
    func againstAstropy() throws {
        var stg = SkyMapConfiguration.rings(numRings: 30, projection: .stereographic, pixelScale: 0.5, tractOverlap: 0.3, raStart: 5)
        stg.rotation = 12
        let skymaps = [
            Self.hsc, try SkyMap(stg), try SkyMap(.discrete(tracts: [(150.1, 2.2, 0.8), (10, -45, 0.5)], projection: .stereographic)),
        ]
        var requests: [[String: Any]] = []
        var expected: [[Point2D]] = []
        var mine: [[SpherePoint]] = []
        var wcss: [Wcs] = []
        for skymap in skymaps {
            for id in stride(from: 0, to: skymap.tractCount, by: max(1, skymap.tractCount / 40)) + [skymap.tractCount - 1] {
                let tract = try skymap.tract(id)
                let w = Double(tract.bbox.width), h = Double(tract.bbox.height)
                let pixels = [
                    Point2D(-0.5, -0.5), Point2D(w - 0.5, h - 0.5), Point2D(w / 3, h / 7), Point2D(w / 2, h / 2), Point2D(w - 0.5, -0.5),
                ]
                requests.append([
                    "crpix": [tract.wcs.crpix.x, tract.wcs.crpix.y], "crval": [tract.wcs.crval.ra, tract.wcs.crval.dec], "cd": tract.wcs.cd,
                    "projection": tract.wcs.projection.rawValue, "pixels": pixels.map { [$0.x, $0.y] },
                ])
                expected.append(pixels)
                mine.append(pixels.map(tract.wcs.pixelToSky))
                wcss.append(tract.wcs)
            }
        }
        let identities: [[String: Any]] = skymaps.map { skymap in
            let c = skymap.configuration
            return [
                "className": c.kind == .rings ? "RingsSkyMap" : "DiscreteSkyMap", "patchInnerDimensions": c.patchInnerDimensions,
                "patchBorder": c.patchBorder, "tractOverlap": c.tractOverlap, "pixelScale": c.pixelScale,
                "projection": c.projection.rawValue,
                "rotation": c.rotation, "numRings": c.numRings, "raStart": c.raStart, "raList": c.raList, "decList": c.decList,
                "radiusList": c.radiusList,
            ]
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("skymap-wcs-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: ["wcs": requests, "identities": identities]).write(to: file)
        let reply = try JSONSerialization.jsonObject(with: ReferencePython.run("skymap_wcs.py", [file.path])) as! [String: Any]
        let sky = reply["sky"] as! [[String: [[Double]]]]
        #expect(sky.count == mine.count)
        var worst = 0.0
        for (index, answer) in sky.enumerated() {
            for (point, world) in zip(mine[index], answer["world"]!) {
                let a = UnitVector3d(try LonLat(lonDegrees: point.ra, latDegrees: point.dec))
                let b = UnitVector3d(try LonLat(lonDegrees: world[0], latDegrees: world[1]))
                // The chord, not acos of the dot product: acos loses everything below ~1e-8 rad.
                let chord = ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) + (a.z - b.z) * (a.z - b.z)).squareRoot()
                let separation = 2 * asin(chord / 2) * 180 / .pi * 3600
                #expect(separation < 1e-5, "tract WCS \(index) \(wcss[index]): \(point) vs astropy \(world)")
                worst = max(worst, separation)
            }
            // Our inverse brings astropy's sky positions back to the pixels asked for.
            for (asked, world) in zip(expected[index], answer["world"]!) {
                let back = wcss[index].skyToPixel(SpherePoint(ra: world[0], dec: world[1]))
                #expect(abs(asked.x - back.x) < 1e-5 && abs(asked.y - back.y) < 1e-5, "tract WCS \(index): \(asked) → \(back)")
            }
        }
        #expect(worst < 1e-5, "largest separation from astropy: \(worst)″")
        #expect(reply["hashes"] as! [String] == skymaps.map(\.hash))
    }
}

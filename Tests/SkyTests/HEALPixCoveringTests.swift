import ButlerTestSupport
import Foundation
import Testing

@testable import Sky

/// HEALPix coverings against lsst-sphgeom's `HealpixPixelization` (which asks hpgeom), both run
/// in the test: 1200 random circles, polygons and boxes at orders 0–17, envelope and interior
/// pixel for pixel; 24,000 points' pixels through `index`; 300 pixel polygons.
@Suite("HEALPix coverings against lsst-sphgeom and hpgeom")
struct HEALPixCoveringTests {
    static func rangeText(_ set: RangeSet) -> String {
        set.isEmpty ? "-" : set.ranges.map { "\($0.0)-\($0.1)" }.joined(separator: ",")
    }

    /// A vertex of `a` that is neither within 1e-14 of a vertex of `b` nor on an edge of `b`.
    static func strayVertex(_ a: [UnitVector3d], _ b: [UnitVector3d]) -> UnitVector3d? {
        a.first { v in
            let near = b.contains { w in max(abs(v.x - w.x), abs(v.y - w.y), abs(v.z - w.z)) <= 1e-14 }
            let onEdge = b.indices.contains { i in
                let p = b[i], q = b[(i + 1) % b.count]
                let n = (p.y * q.z - p.z * q.y, p.z * q.x - p.x * q.z, p.x * q.y - p.y * q.x)
                let length = (n.0 * n.0 + n.1 * n.1 + n.2 * n.2).squareRoot()
                return abs(n.0 * v.x + n.1 * v.y + n.2 * v.z) <= 1e-14 * length && v.dot(p) > 0 && v.dot(q) > 0
            }
            return !near && !onEdge
        }
    }

    @Test("envelopes, interiors, point indices and pixel polygons agree with sphgeom")
    func coveringsAgree() throws {
        let output = String(decoding: try ReferencePython.run("sky_healpix.py", ["1200", "20261130"]), as: UTF8.self)
        var mismatches: [String] = []
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            counts[f[0], default: 0] += 1
            switch f[0] {
            case "region":
                let region = try Region(base64: f[1])
                let healpix = try HEALPixNested(order: Int(f[2])!)
                let envelope = Self.rangeText(try healpix.envelope(region))
                if envelope != f[3] {
                    mismatches.append("\(region) order \(healpix.order): envelope \(envelope.prefix(200)) against \(f[3].prefix(200))")
                }
                let interior = Self.rangeText(try healpix.interior(region))
                if f[4] != "!" && interior != f[4] {
                    mismatches.append("\(region) order \(healpix.order): interior \(interior.prefix(200)) against \(f[4].prefix(200))")
                }
            case "index":
                let v = try UnitVector3d(unitComponents: Double(f[1])!, Double(f[2])!, Double(f[3])!)
                let healpix = try HEALPixNested(order: Int(f[4])!)
                if healpix.index(of: v) != Int64(f[5])! {
                    mismatches.append("index of \(v) at \(f[4]): \(healpix.index(of: v)) against \(f[5])")
                }
            default:
                let healpix = try HEALPixNested(order: Int(f[1])!)
                guard case .polygon(let polygon) = try healpix.pixelRegion(Int64(f[2])!) else { continue }
                // numpy's sin and cos differ from C's in the last bit now and then, and a point
                // on a meridian side is kept or dropped from the hull as rounding falls: the
                // vertices agree to 1e-14, and a vertex only one side has lies on the other's edge.
                let expected = try f[3].split(separator: ";").map { text in
                    let c = text.split(separator: ",").map { Double(String($0))! }
                    return try UnitVector3d(unitComponents: c[0], c[1], c[2])
                }
                if let stray = Self.strayVertex(polygon.vertices, expected) ?? Self.strayVertex(expected, polygon.vertices) {
                    mismatches.append("pixel \(f[2]) at \(f[1]): vertex \(stray) of \(polygon.vertices) against \(expected)")
                }
            }
        }
        #expect(counts["region"] == 1200 && counts["index"] == 24000 && counts["pixel"] == 300, "\(counts)")
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(6))")
    }

    /// Where sphgeom's answer is empty for a box (all longitudes; zero height), ours still
    /// covers every pixel whose centre, or a point of the box, lies in the box.
    @Test("boxes sphgeom cannot cover are covered, and envelopes hold the pixels of the region's points")
    func boxesAndBruteForce() throws {
        let healpix = try HEALPixNested(order: 5)
        let cap = Region.box(try Box(lon1Degrees: 0, lat1Degrees: 80, lon2Degrees: 360, lat2Degrees: 90))
        let line = Region.box(try Box(lon1Degrees: 10, lat1Degrees: 20, lon2Degrees: 30, lat2Degrees: 20))
        var generator = SystemRandomNumberGenerator()
        for region in [cap, line, .circle(try Circle(lonDegrees: 359.9, latDegrees: -89.5, radiusDegrees: 3))] {
            let envelope = try healpix.envelope(region)
            let interior = try healpix.interior(region)
            #expect(!envelope.isEmpty && envelope.contains(interior))
            let bound = region.boundingBox
            for _ in 0..<2000 {
                let lon = Double.random(in: bound.longitudes.west...bound.longitudes.west + 2 * .pi, using: &generator)
                let lat = Double.random(in: bound.latitudes.south...bound.latitudes.north, using: &generator)
                let v = UnitVector3d(try LonLat(lonRadians: lon, latRadians: lat))
                guard region.contains(v) else { continue }
                #expect(envelope.contains(UInt64(healpix.index(of: v))), "\(region): pixel of \(v)")
            }
        }
        // The cap at order 5 holds whole pixels near the pole, and its interior pixels are inside.
        let interior = try healpix.interior(cap)
        #expect(interior.cardinality > 0)
        for (first, _) in interior.ranges {
            #expect(try healpix.pixelRegion(Int64(first)).boundingBox.latitudes.south >= 80 * .pi / 180 - 1e-12)
        }
    }

    @Test("maxRanges coarsens outward for envelopes and inward for interiors; orders beyond 23 are refused")
    func maxRangesAndLimits() throws {
        let healpix = try HEALPixNested(order: 11)
        let region = Region.polygon(try ConvexPolygon(hullOfDegrees: [(150, 2), (150.4, 2.1), (150.3, 2.5), (149.9, 2.4)]))
        let envelope = try healpix.envelope(region), interior = try healpix.interior(region)
        for limit in [1, 3, 10] {
            let coarse = try healpix.envelope(region, maxRanges: limit)
            #expect(coarse.rangeCount <= limit && coarse.contains(envelope))
            let inner = try healpix.interior(region, maxRanges: limit)
            #expect(inner.rangeCount <= limit && interior.contains(inner))
        }
        let error = try #require(throws: SkyError.self) { try HEALPixNested(order: 24).envelope(region) }
        #expect(error.message.contains("24"))
        #expect(throws: SkyError.self) { try healpix.pixelRegion(12 << 22) }
        let union = Region.union([region, .circle(try Circle(lonDegrees: 10, latDegrees: -40, radiusDegrees: 0.2))])
        #expect(
            try healpix.envelope(union)
                == envelope.union(try healpix.envelope(.circle(try Circle(lonDegrees: 10, latDegrees: -40, radiusDegrees: 0.2)))))
    }
}

import ButlerTestSupport
import Foundation
import Sky
import Testing

/// Regions against lsst-sphgeom run in the test: 1200 random circles, polygons (the convex hull
/// of random points) and boxes — their encodings, HTM envelopes and interiors at levels 0–11
/// with and without `maxRanges`, their relations pairwise and whether they contain points near
/// them.
@Suite("Regions and coverings against lsst-sphgeom")
struct RegionTests {
    static func hexDoubles(_ field: Substring) -> [Double] { field.split(separator: ",").map { Double(String($0))! } }

    static func rangeText(_ set: RangeSet) -> String {
        set.isEmpty ? "-" : set.ranges.map { "\($0.0)-\($0.1)" }.joined(separator: ",")
    }

    @Test("construction, encoding, envelopes, interiors, relations and containment agree with sphgeom")
    func regionsAgree() throws {
        let output = String(decoding: try ReferencePython.run("sky_regions.py", ["1200", "20261130"]), as: UTF8.self)
        var regions: [Region] = []
        var mismatches: [String] = []
        var counts: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ")
            counts[String(f[0]), default: 0] += 1
            switch f[0] {
            case "region":
                let args = Self.hexDoubles(f[2])
                let region: Region
                switch f[1] {
                case "circle": region = .circle(try Circle(lonDegrees: args[0], latDegrees: args[1], radiusDegrees: args[2]))
                case "box":
                    region = .box(try Box(lon1Degrees: args[0], lat1Degrees: args[1], lon2Degrees: args[2], lat2Degrees: args[3]))
                default:
                    let points = try stride(from: 0, to: args.count, by: 3).map {
                        try UnitVector3d(unitComponents: args[$0], args[$0 + 1], args[$0 + 2])
                    }
                    region = .polygon(try ConvexPolygon(hullOf: points))
                }
                regions.append(region)
                let name = "region \(regions.count - 1) (\(region))"
                if region.base64 != String(f[3]) { mismatches.append("\(name): encoding \(region.base64) against \(f[3])") }
                let decoded = try Region(base64: String(f[3]))
                if decoded != region { mismatches.append("\(name): decoded \(decoded)") }
                let htm = try HTMPixelization(level: Int(f[4])!)
                let maxRanges = Int(f[5])!
                let envelope = Self.rangeText(htm.envelope(region, maxRanges: maxRanges))
                if envelope != f[6] {
                    mismatches.append(
                        "\(name) level \(htm.level) max \(maxRanges): envelope \(envelope.prefix(200)) against \(f[6].prefix(200))")
                }
                let interior = Self.rangeText(htm.interior(region, maxRanges: maxRanges))
                if interior != f[7] {
                    mismatches.append(
                        "\(name) level \(htm.level) max \(maxRanges): interior \(interior.prefix(200)) against \(f[7].prefix(200))")
                }
            case "relate":
                let a = regions[Int(f[1])!], b = regions[Int(f[2])!]
                let relation = a.relate(b)
                if relation.rawValue != UInt8(f[3])! { mismatches.append("relate \(f[1]) \(f[2]): \(relation) against \(f[3])") }
                let overlaps = a.overlaps(b).map { $0 ? "1" : "0" } ?? "?"
                if overlaps != f[4] { mismatches.append("overlaps \(f[1]) \(f[2]): \(overlaps) against \(f[4])") }
            default:
                let v = try UnitVector3d(unitComponents: Double(String(f[2]))!, Double(String(f[3]))!, Double(String(f[4]))!)
                let inside = regions[Int(f[1])!].contains(v)
                if inside != (f[5] == "1") { mismatches.append("contains \(f[1]) \(v): \(inside) against \(f[5])") }
            }
        }
        #expect(counts["region"] == 1200 && counts["relate"] == 4800 && counts["contains"] == 4800, "\(counts)")
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(8))")
    }

    @Test("bad input is refused with the value named")
    func badInput() throws {
        #expect(throws: SkyError.self) { try Circle(lonDegrees: .nan, latDegrees: 0, radiusDegrees: 1) }
        #expect(throws: SkyError.self) { try Circle(lonDegrees: 0, latDegrees: 0, radiusDegrees: -1) }
        #expect(throws: SkyError.self) { try Box(lon1Degrees: 0, lat1Degrees: 10, lon2Degrees: 5, lat2Degrees: 5) }
        #expect(throws: SkyError.self) { try Box(lon1Degrees: 0, lat1Degrees: 0, lon2Degrees: 5, lat2Degrees: 95) }
        // Two distinct points, or points on one great circle, make no polygon.
        #expect(throws: SkyError.self) { try ConvexPolygon(hullOfDegrees: [(0, 0), (10, 0), (0, 0)]) }
        #expect(throws: SkyError.self) { try ConvexPolygon(hullOfDegrees: [(0, 0), (10, 0), (20, 0)]) }
        // Clockwise or non-convex vertex rings are refused as vertices (a hull accepts any order).
        let clockwise = try [(0.0, 0.0), (0.0, 10.0), (10.0, 0.0)].map { UnitVector3d(try LonLat(lonDegrees: $0.0, latDegrees: $0.1)) }
        #expect(throws: SkyError.self) { try ConvexPolygon(vertices: clockwise) }
        #expect(try ConvexPolygon(hullOf: clockwise).vertices.count == 3)
        for text in ["", "!!!!", "eHh4", "Yw==", "cAAA"] where !text.isEmpty {
            #expect(throws: SkyError.self, "\(text)") { try Region(base64: text) }
        }
        #expect(try Region(base64: "") == .union([]))
        #expect(throws: SkyError.self) { try Region(ivoaPOS: "CIRCLE 1 2") }
        #expect(throws: SkyError.self) { try Region(ivoaPOS: "TRIANGLE 1 2 3") }
        #expect(throws: SkyError.self) { try Region(ivoaPOS: "POLYGON 0 0 1 1 x 2") }
        let error = try #require(throws: SkyError.self) { try Circle(lonDegrees: 0, latDegrees: 120, radiusDegrees: 1) }
        #expect(error.message.contains("120"))
    }

    @Test("IVOA POS strings and compound regions")
    func compoundRegions() throws {
        let circle = try Region(ivoaPOS: "CIRCLE 150 2 0.5")
        let range = try Region(ivoaPOS: "RANGE 149 151 -Inf 3")
        let polygon = try Region(ivoaPOS: "POLYGON 149.9 1.9 150.1 1.9 150 2.1")
        let center = UnitVector3d(try LonLat(lonDegrees: 150, latDegrees: 2))
        #expect(circle.contains(center) && range.contains(center) && polygon.contains(center))
        #expect(range.relate(circle) == .contains && circle.relate(polygon) == .contains)
        let union = Region.unionOf([circle, .unionOf([polygon])])
        if case .union(let operands) = union { #expect(operands.count == 2) }
        #expect(try Region(base64: union.base64) == union)
        let split = union.base64.isEmpty ? "" : circle.base64 + ":" + polygon.base64
        #expect(try Region(base64: split) == union)
        let far = try Region(ivoaPOS: "CIRCLE 10 -40 1")
        #expect(Region.intersectionOf([circle, far]).isEmpty && !Region.intersectionOf([circle, polygon]).isEmpty)
        let htm = try HTMPixelization(level: 9)
        #expect(htm.envelope(.intersection([circle, polygon])) == htm.envelope(polygon))
        #expect(htm.envelope(.union([circle, far])) == htm.envelope(circle).union(htm.envelope(far)))
    }

    @Test("the README's Sky example runs as written")
    func readmeExample() throws {
        let circle = Region.circle(try Circle(lonDegrees: 150.1, latDegrees: 2.2, radiusDegrees: 0.1))
        let pixels = try HTMPixelization(level: 11).envelope(circle, maxRanges: 8)
        let polygon = Region.polygon(try ConvexPolygon(hullOfDegrees: [(150, 2), (150.2, 2), (150.1, 2.3)]))
        let relation = polygon.relate(circle)
        let text = polygon.base64
        #expect(pixels.rangeCount <= 8 && !pixels.isEmpty)
        #expect(relation == .intersects)
        #expect(try Region(base64: text) == polygon)
    }
}

import ButlerTestSupport
import Foundation
import Testing

@testable import Sky

/// HTM and HEALPix pixels of points, index for index against the references from PyPI run in
/// the test (lsst-sphgeom, hpgeom): 10⁵ random points plus the poles, the equator, longitude
/// 0/360, and points on pixel edges (HTM triangle vertices, HEALPix pixel corners).
@Suite("Pixelizations against lsst-sphgeom and hpgeom")
struct PixelizationTests {
    @Test("unit vectors, HTM indices (levels 0–24) and nested HEALPix pixels (orders 0–29) of 10⁵ points and edge points")
    func pointsAgree() throws {
        let output = String(decoding: try ReferencePython.run("sky_points.py", ["100000", "20261130"]), as: UTF8.self)
        let allLines = output.split(separator: "\n")
        try #require(allLines.count > 2, "sky_points.py printed \(output.prefix(200))")
        let levels = allLines[0].split(separator: " ").compactMap { Int($0) }
        let orders = allLines[1].split(separator: " ").compactMap { Int($0) }
        let lines = allLines.dropFirst(2)
        let htm = try levels.map { try HTMPixelization(level: $0) }
        let healpix = try orders.map { try HEALPixNested(order: $0) }
        #expect(lines.count > 100_000)
        var mismatches: [String] = []
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            let lon = Double(fields[0])!, lat = Double(fields[1])!
            let point = try LonLat(lonDegrees: lon, latDegrees: lat)
            let vector = UnitVector3d(point)
            if [vector.x, vector.y, vector.z] != fields[2...4].map({ Double($0)! }) {
                mismatches.append("(\(lon), \(lat)): vector \(vector) against \(fields[2...4])")
                continue
            }
            for (position, pixelization) in htm.enumerated() where pixelization.index(of: vector) != UInt64(fields[5 + position])! {
                mismatches.append(
                    "(\(lon), \(lat)): HTM\(pixelization.level) \(pixelization.index(of: vector)) against \(fields[5 + position])")
            }
            for (position, pixelization) in healpix.enumerated() {
                let ours = try pixelization.pixel(lonDegrees: lon, latDegrees: lat)
                if ours != Int64(fields[5 + htm.count + position])! {
                    mismatches.append(
                        "(\(lon), \(lat)): HEALPix order \(pixelization.order) \(ours) against \(fields[5 + htm.count + position])")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(10))")
        // The fast path and sphgeom's step-for-step path agree on every point (edge points
        // included: they take the exact path).
        let vectors = try lines.prefix(20_000).map { line in
            let fields = line.split(separator: " ")
            return UnitVector3d(try LonLat(lonDegrees: Double(fields[0])!, latDegrees: Double(fields[1])!))
        }
        for pixelization in htm {
            #expect(vectors.allSatisfy { pixelization.index(of: $0) == pixelization.exactIndex($0) }, "HTM\(pixelization.level)")
        }
    }

    @Test("HTM index forms: levels, text, triangles; bad input named")
    func htmForms() throws {
        #expect(HTMPixelization.level(of: 8) == 0 && HTMPixelization.level(of: 15) == 0)
        #expect(HTMPixelization.level(of: 32) == 1 && HTMPixelization.level(of: 7) == nil && HTMPixelization.level(of: 16) == nil)
        #expect(try HTMPixelization.string(of: 8) == "S0" && HTMPixelization.string(of: 15) == "N3")
        #expect(try HTMPixelization.string(of: (13 << 4) | 0b0110) == "N112")
        let level3 = try HTMPixelization(level: 3)
        for index: UInt64 in [512, 700, 1023] {
            // A triangle's centroid lies in it.
            let corners = try level3.triangle(index)
            let centroid = try UnitVector3d(
                normalizing: corners.map(\.x).reduce(0, +), corners.map(\.y).reduce(0, +), corners.map(\.z).reduce(0, +))
            #expect(level3.index(of: centroid) == index)
        }
        #expect(throws: SkyError.self) { try HTMPixelization(level: 25) }
        #expect(throws: SkyError.self) { try level3.triangle(8) }
        #expect(throws: SkyError.self) { try LonLat(lonDegrees: .nan, latDegrees: 0) }
        #expect(throws: SkyError.self) { try LonLat(lonDegrees: 10, latDegrees: 90.5) }
        #expect(throws: SkyError.self) { try HEALPixNested(order: 30) }
        #expect(throws: SkyError.self) { try HEALPixNested(order: 3).pixel(lonDegrees: .infinity, latDegrees: 0) }
    }
}

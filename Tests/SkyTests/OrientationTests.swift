import Foundation
import Testing

@testable import Sky

/// The exact orientation predicate: consistent under permutation, zero only when coplanar.
/// (Agreement with sphgeom, whose level-24 HTM indices take its exact path for about one
/// point in ten, is checked by the pixelization tests.)
@Suite("Exact orientation")
struct OrientationTests {
    @Test("the sign flips with an odd permutation and not with an even one, for nearly coplanar points")
    func permutations() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let a = try UnitVector3d(
                normalizing: .random(in: -1...1, using: &generator), .random(in: -1...1, using: &generator),
                .random(in: -1...1, using: &generator))
            let b = try UnitVector3d(normalizing: a.x + 1e-9, a.y - 2e-9, a.z + .random(in: -1e-9...1e-9, using: &generator))
            let c = try UnitVector3d(normalizing: a.x + 2e-9, a.y - 4e-9, a.z + .random(in: -1e-9...1e-9, using: &generator))
            let sign = orientation(a, b, c)
            #expect(orientation(b, c, a) == sign && orientation(c, a, b) == sign)
            #expect(orientation(b, a, c) == -sign && orientation(a, c, b) == -sign)
            #expect(ExactOrientation.sign(a, b, c) == sign)
            #expect(ExactOrientation.expansionSign(a, b, c) == sign)
        }
        // Exactly coplanar and nearly so, with components of every scale: both exact paths agree.
        for _ in 0..<5000 {
            let scale = Double.random(in: -60...0, using: &generator)
            let a = try UnitVector3d(
                normalizing: .random(in: -1...1, using: &generator) * pow(2, scale), .random(in: -1...1, using: &generator), 0.5)
            let t = Double.random(in: -2...2, using: &generator)
            let b = try UnitVector3d(normalizing: a.x * t + 1, a.y * t, a.z * t + .random(in: -1e-300...1e-300, using: &generator))
            let c = UnitVector3d.unitX
            #expect(ExactOrientation.expansionSign(a, b, c) == ExactOrientation.sign(a, b, c), "\(a) \(b)")
        }
        let x = UnitVector3d.unitX, y = UnitVector3d.unitY
        #expect(orientation(x, x, y) == 0 && orientation(x, -x, y) == 0)
        #expect(orientation(x, y, .unitZ) == 1 && orientation(y, x, .unitZ) == -1)
        // Exactly coplanar, not identical: the exact path says so.
        #expect(ExactOrientation.sign(x, y, UnitVector3d(normalized: 0.6, 0.8, 0)) == 0)
        #expect(ExactOrientation.expansionSign(x, y, UnitVector3d(normalized: 0.6, 0.8, 0)) == 0)
        #expect(ExactOrientation.expansionSign(x, y, UnitVector3d(normalized: 1e-250, 0.6, 0.8)) == nil)
    }
}

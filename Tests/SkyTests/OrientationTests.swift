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
        }
        let x = UnitVector3d.unitX, y = UnitVector3d.unitY
        #expect(orientation(x, x, y) == 0 && orientation(x, -x, y) == 0)
        #expect(orientation(x, y, .unitZ) == 1 && orientation(y, x, .unitZ) == -1)
        // Exactly coplanar, not identical: the exact path says so.
        #expect(ExactOrientation.sign(x, y, UnitVector3d(normalized: 0.6, 0.8, 0)) == 0)
    }
}

import BigInt
import Foundation

/// The side of the plane through the origin, `b` and `c` on which `a` lies: the sign of
/// `a · (b × c)` — 1 when a, b, c wind counter-clockwise seen from outside the sphere, −1
/// clockwise, 0 when coplanar. Exact: a floating-point estimate with sphgeom's error bounds
/// decides when it can, exact integer arithmetic otherwise, so that points on a pixel's edge
/// fall on the side sphgeom puts them.
public func orientation(_ a: UnitVector3d, _ b: UnitVector3d, _ c: UnitVector3d) -> Int {
    // Bounds of sphgeom's orientation(): the absolute error of the determinant of unit
    // vectors, a relative bound from the permanent, and an underflow allowance.
    let maxAbsoluteError = 1.7e-15
    let relativeError = 5.6e-16
    let minAbsoluteError = 4.0e-307
    let bycz = b.y * c.z, bzcy = b.z * c.y
    let bzcx = b.z * c.x, bxcz = b.x * c.z
    let bxcy = b.x * c.y, bycx = b.y * c.x
    let determinant = a.x * (bycz - bzcy) + a.y * (bzcx - bxcz) + a.z * (bxcy - bycx)
    if determinant > maxAbsoluteError { return 1 }
    if determinant < -maxAbsoluteError { return -1 }
    let permanent =
        abs(a.x) * (abs(bycz) + abs(bzcy)) + abs(a.y) * (abs(bzcx) + abs(bxcz)) + abs(a.z) * (abs(bxcy) + abs(bycx))
    let maxError = relativeError * permanent + minAbsoluteError
    if determinant > maxError { return 1 }
    if determinant < -maxError { return -1 }
    if a == b || b == c || a == c || a == -b || b == -c || a == -c { return 0 }
    return ExactOrientation.expansionSign(a, b, c) ?? ExactOrientation.sign(a, b, c)
}

/// The exact sign of `a · (b × c)`: its six triple products as integers times powers of two
/// (a double is a 53-bit integer times 2^e), aligned to the smallest power and summed without
/// rounding (attaswift/BigInt).
enum ExactOrientation {
    /// The exact sign of `a · (b × c)` by floating-point expansions (Shewchuk's): each triple
    /// product split exactly into four doubles with fused multiply-adds, the 24 summed without
    /// rounding into a nonoverlapping expansion whose largest component has the sum's sign. No
    /// allocation, so near-degenerate geometry (a vertex on an HTM edge, a patch corner at
    /// dec = 0) stays cheap. Nil when a component is so small (below 2⁻²⁰⁰, nonzero) that a
    /// partial product could underflow; the integer path answers then.
    static func expansionSign(_ a: UnitVector3d, _ b: UnitVector3d, _ c: UnitVector3d) -> Int? {
        let smallest = 0x1p-200
        for value in [a.x, a.y, a.z, b.x, b.y, b.z, c.x, c.y, c.z] where value != 0 && abs(value) < smallest { return nil }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 25) { expansion -> Int in
            var count = 0
            /// Adds `term` to the expansion exactly (Grow-Expansion with zero elimination).
            func grow(_ term: Double) {
                var q = term
                var kept = 0
                for index in 0..<count {
                    let e = expansion[index]
                    let sum = q + e
                    let virtual = sum - q
                    let error = (q - (sum - virtual)) + (e - virtual)
                    q = sum
                    if error != 0 {
                        expansion[kept] = error
                        kept += 1
                    }
                }
                if q != 0 {
                    expansion[kept] = q
                    kept += 1
                }
                count = kept
            }
            func add(_ x: Double, _ y: Double, _ z: Double, negated: Bool) {
                let p = x * y
                let pError = (-p).addingProduct(x, y)  // x·y − p, exactly
                for part in [p, pError] where part != 0 {
                    let q = part * z
                    let qError = (-q).addingProduct(part, z)
                    grow(negated ? -q : q)
                    if qError != 0 { grow(negated ? -qError : qError) }
                }
            }
            add(a.x, b.y, c.z, negated: false)
            add(a.x, b.z, c.y, negated: true)
            add(a.y, b.z, c.x, negated: false)
            add(a.y, b.x, c.z, negated: true)
            add(a.z, b.x, c.y, negated: false)
            add(a.z, b.y, c.x, negated: true)
            guard count > 0 else { return 0 }
            return expansion[count - 1] > 0 ? 1 : -1
        }
    }

    static func sign(_ a: UnitVector3d, _ b: UnitVector3d, _ c: UnitVector3d) -> Int {
        let terms: [(Double, Double, Double, Bool)] = [
            (a.x, b.y, c.z, false), (a.x, b.z, c.y, true), (a.y, b.z, c.x, false),
            (a.y, b.x, c.z, true), (a.z, b.x, c.y, false), (a.z, b.y, c.x, true),
        ]
        var products: [(value: BigInt, exponent: Int)] = []
        for (d0, d1, d2, subtracted) in terms where d0 != 0 && d1 != 0 && d2 != 0 {
            var value = BigInt(subtracted ? -1 : 1)
            var exponent = 0
            for d in [d0, d1, d2] {
                // Swift's frexp returns the fraction of the magnitude: the sign is taken apart.
                if d < 0 { value.negate() }
                let (fraction, e) = frexp(abs(d))
                // The fraction is in [0.5, 1): times 2^53 it is an integer of 53 bits.
                value *= BigInt(UInt64(fraction * 9007199254740992.0))
                exponent += e - 53
            }
            products.append((value, exponent))
        }
        guard let lowest = products.map(\.exponent).min() else { return 0 }
        let sum = products.reduce(BigInt(0)) { $0 + ($1.value << ($1.exponent - lowest)) }
        return sum.isZero ? 0 : (sum.sign == .minus ? -1 : 1)
    }
}

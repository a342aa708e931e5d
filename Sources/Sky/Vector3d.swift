import Foundation

/// A vector of ℝ³ with lsst-sphgeom's arithmetic (component order of sums, its normalization),
/// for the intermediate values of region computations; points are ``UnitVector3d``.
struct Vector3d: Sendable, Equatable {
    var x: Double
    var y: Double
    var z: Double

    init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    static let zero = Vector3d(0, 0, 0)

    static func + (a: Vector3d, b: Vector3d) -> Vector3d { Vector3d(a.x + b.x, a.y + b.y, a.z + b.z) }
    static func - (a: Vector3d, b: Vector3d) -> Vector3d { Vector3d(a.x - b.x, a.y - b.y, a.z - b.z) }
    static func * (a: Vector3d, s: Double) -> Vector3d { Vector3d(a.x * s, a.y * s, a.z * s) }
    static prefix func - (a: Vector3d) -> Vector3d { Vector3d(-a.x, -a.y, -a.z) }

    func dot(_ v: Vector3d) -> Double { x * v.x + y * v.y + z * v.z }
    func cross(_ v: Vector3d) -> Vector3d { Vector3d(y * v.z - z * v.y, z * v.x - x * v.z, x * v.y - y * v.x) }
    var squaredNorm: Double { dot(self) }
    var norm: Double { squaredNorm.squareRoot() }
    var isZero: Bool { x == 0 && y == 0 && z == 0 }

    /// Scales the vector to unit length and returns its length before (sphgeom's
    /// `Vector3d::normalize`: the largest magnitude divided out first, so nothing overflows).
    /// The zero vector stays zero and returns 0.
    ///
    /// Bit for bit sphgeom's result without its table of component orders: the largest
    /// component divided by its own magnitude is exactly ±1 (sphgeom's `copysign(1, w)`), the
    /// sum of the other two squares does not depend on their order, and equal largest
    /// magnitudes give the same numbers whichever is taken — so only which squares to add needs
    /// a choice, not a branch per component.
    mutating func normalize() -> Double {
        let ax = abs(x), ay = abs(y), az = abs(z)
        let maxAbs = max(ax, max(ay, az))
        guard maxAbs != 0 else { return 0 }
        let u = x / maxAbs, v = y / maxAbs, w = z / maxAbs
        let others = ax >= ay && ax >= az ? v * v + w * w : ay >= az ? u * u + w * w : u * u + v * v
        let norm = (1.0 + others).squareRoot()
        x = u / norm
        y = v / norm
        z = w / norm
        return norm * maxAbs
    }
}

/// sphgeom's error bounds, so that relations computed here fall on the side sphgeom's do.
enum SphgeomBounds {
    /// Bound on the error of an arcsine (opening angles, bounding boxes).
    static let maxAsinError = 1.5e-8
    /// Bound on the error of a squared chord length between unit vectors.
    static let maxSquaredChordLengthError = 2.5e-15
    /// 2⁻⁵³.
    static let epsilon = 1.1102230246251565e-16
}

/// The angle between two vectors, in [0, π] (sphgeom's `NormalizedAngle(Vector3d, Vector3d)`).
func angleBetween(_ v1: Vector3d, _ v2: Vector3d) -> Double {
    let s = v1.cross(v2).norm
    let c = v1.dot(v2)
    return s == 0 && c == 0 ? 0 : atan2(s, c)
}

/// The smallest squared chord length from `v` to the great-circle segment from `a` to `b` with
/// plane normal `n`, when the closest point is inside the segment; 4 otherwise (sphgeom's
/// `getMinSquaredChordLength`).
///
/// Callers only compare it with `threshold`: away from it (by more than 10⁻¹², far above both
/// formulas' rounding) the value comes from `2(1 − cos θ)` without the arctangent and sine, and
/// the comparison falls the same way; near it, sphgeom's own formula decides.
func minSquaredChordLength(_ v: Vector3d, _ a: Vector3d, _ b: Vector3d, _ n: Vector3d, near threshold: Double) -> Double {
    let vxn = v.cross(n)
    guard vxn.dot(a) > 0, vxn.dot(b) < 0 else { return 4 }
    let s = abs(v.dot(n))
    let c = vxn.norm
    let hypotenuse = (s * s + c * c).squareRoot()
    if hypotenuse > 0 {
        let estimate = 2 * (1 - c / hypotenuse)
        if abs(estimate - threshold) > 1e-12 { return estimate }
    }
    let theta = c == 0 ? 0.5 * SphgeomConstants.pi : atan(s / c)
    let d = sin(0.5 * theta)
    return 4 * d * d
}

/// The largest squared chord length from `v` to the segment from `a` to `b` when the farthest
/// point is inside the segment; 0 otherwise (sphgeom's `getMaxSquaredChordLength`), with the
/// same shortcut away from `threshold` as ``minSquaredChordLength(_:_:_:_:near:)``.
func maxSquaredChordLength(_ v: Vector3d, _ a: Vector3d, _ b: Vector3d, _ n: Vector3d, near threshold: Double) -> Double {
    let vxn = v.cross(n)
    guard vxn.dot(a) < 0, vxn.dot(b) > 0 else { return 0 }
    let s = abs(v.dot(n))
    let c = -vxn.norm
    let hypotenuse = (s * s + c * c).squareRoot()
    if hypotenuse > 0 {
        let estimate = 2 * (1 - c / hypotenuse)
        if abs(estimate - threshold) > 1e-12 { return estimate }
    }
    let d = sin(0.5 * atan2(s, c))
    return 4 * d * d
}

extension LonLat {
    /// The longitude and latitude of a nonzero vector, unchecked (sphgeom's `LonLat(Vector3d)`).
    init(vector v: Vector3d) {
        self.init(uncheckedLon: Self.longitude(of: v), lat: Self.latitude(of: v))
    }

    /// The point of a unit vector.
    public init(_ v: UnitVector3d) { self.init(vector: v.vector) }

    /// sphgeom's `LonLat::latitudeOf`.
    static func latitude(of v: Vector3d) -> Double {
        guard v.z != 0 else { return 0 }
        let lat = atan2(v.z, (v.x * v.x + v.y * v.y).squareRoot())
        return abs(lat) > 0.5 * SphgeomConstants.pi ? (lat < 0 ? -0.5 : 0.5) * SphgeomConstants.pi : lat
    }

    /// sphgeom's `LonLat::longitudeOf`, in [0, 2π).
    static func longitude(of v: Vector3d) -> Double {
        guard v.x * v.x + v.y * v.y != 0 else { return 0 }
        let lon = atan2(v.y, v.x)
        return lon < 0 ? lon + 2 * SphgeomConstants.pi : lon
    }
}

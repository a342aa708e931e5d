import Foundation

/// A point on the unit sphere as a unit vector, with lsst-sphgeom's arithmetic: the same
/// normalization and conversions, so that pixel indices computed from it are sphgeom's.
public struct UnitVector3d: Sendable, Hashable, CustomStringConvertible {
    /// The x component (toward longitude 0 on the equator); x² + y² + z² = 1 up to rounding.
    public let x: Double
    /// The y component (toward longitude 90° on the equator).
    public let y: Double
    /// The z component (toward the north pole).
    public let z: Double

    /// The unit vector of a point (`cos lon cos lat, sin lon cos lat, sin lat`, unnormalized
    /// as sphgeom leaves it).
    public init(_ point: LonLat) {
        let sinLon = sin(point.lon)
        let cosLon = cos(point.lon)
        let sinLat = sin(point.lat)
        let cosLat = cos(point.lat)
        x = cosLon * cosLat
        y = sinLon * cosLat
        z = sinLat
    }

    /// The unit vector along (x, y, z), normalized as sphgeom's `Vector3d::normalize`:
    /// divided by the largest magnitude first, so nothing overflows or underflows.
    /// - Throws: ``SkyError`` for the zero vector or a component that is not finite.
    public init(normalizing x: Double, _ y: Double, _ z: Double) throws {
        guard x.isFinite, y.isFinite, z.isFinite else { throw SkyError("vector (\(x), \(y), \(z)) is not finite") }
        guard x != 0 || y != 0 || z != 0 else { throw SkyError("the zero vector has no direction") }
        self = Self.normalized(x, y, z)
    }

    /// Components taken as they are, for values known to be normalized.
    init(normalized x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// sphgeom's normalization of a nonzero vector.
    static func normalized(_ x: Double, _ y: Double, _ z: Double) -> UnitVector3d {
        var v = [x, y, z]
        let ax = abs(x), ay = abs(y), az = abs(z)
        let index = (ax > az ? 4 : 0) + (ax > ay ? 2 : 0) + (ay > az ? 1 : 0)
        // Component indices from smallest to largest magnitude, by the comparisons above.
        let order: [Int] =
            switch index {
            case 0: [0, 1, 2]
            case 1: [0, 2, 1]
            case 2: [1, 0, 2]
            case 5: [2, 0, 1]
            case 6: [1, 2, 0]
            default: [2, 1, 0]
            }
        let w = v[order[2]]
        let maxAbs = abs(w)
        let u = v[order[0]] / maxAbs
        let t = v[order[1]] / maxAbs
        let norm = (1.0 + (u * u + t * t)).squareRoot()
        v[order[0]] = u / norm
        v[order[1]] = t / norm
        v[order[2]] = (w < 0 ? -1.0 : 1.0) / norm
        return UnitVector3d(normalized: v[0], v[1], v[2])
    }

    /// The normalized sum (the midpoint direction of an edge).
    func midpoint(_ other: UnitVector3d) -> UnitVector3d { Self.normalized(x + other.x, y + other.y, z + other.z) }

    static prefix func - (v: UnitVector3d) -> UnitVector3d { UnitVector3d(normalized: -v.x, -v.y, -v.z) }

    static let unitX = UnitVector3d(normalized: 1, 0, 0)
    static let unitY = UnitVector3d(normalized: 0, 1, 0)
    static let unitZ = UnitVector3d(normalized: 0, 0, 1)

    public var description: String { "[\(x), \(y), \(z)]" }
}

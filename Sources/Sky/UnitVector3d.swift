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

    /// A vector already of unit length, taken exactly as given (as sphgeom keeps the vertices
    /// it encodes): no renormalization, so a round trip through text or an encoding is exact.
    /// - Throws: ``SkyError`` for components that are not finite or whose length is not 1
    ///   within 10⁻¹⁰.
    public init(unitComponents x: Double, _ y: Double, _ z: Double) throws {
        guard x.isFinite, y.isFinite, z.isFinite, abs(x * x + y * y + z * z - 1) < 1e-10 else {
            throw SkyError("(\(x), \(y), \(z)) is not a unit vector")
        }
        self.init(normalized: x, y, z)
    }

    /// Components taken as they are, for values known to be normalized.
    init(normalized x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// sphgeom's normalization of a nonzero vector (`Vector3d::normalize`).
    static func normalized(_ x: Double, _ y: Double, _ z: Double) -> UnitVector3d {
        var vector = Vector3d(x, y, z)
        _ = vector.normalize()
        return UnitVector3d(normalized: vector.x, vector.y, vector.z)
    }

    /// The normalized sum (the midpoint direction of an edge).
    func midpoint(_ other: UnitVector3d) -> UnitVector3d { Self.normalized(x + other.x, y + other.y, z + other.z) }

    static prefix func - (v: UnitVector3d) -> UnitVector3d { UnitVector3d(normalized: -v.x, -v.y, -v.z) }

    /// The components as a plain vector, for arithmetic.
    var vector: Vector3d { Vector3d(x, y, z) }

    /// The unit vector along a nonzero plain vector (sphgeom's `UnitVector3d(Vector3d)`).
    init(_ vector: Vector3d) { self = Self.normalized(vector.x, vector.y, vector.z) }

    /// The unit vector at longitude and latitude in radians, unchecked (sphgeom's
    /// `UnitVector3d(Angle, Angle)`).
    init(lon: Double, lat: Double) {
        let sinLon = sin(lon), cosLon = cos(lon), sinLat = sin(lat), cosLat = cos(lat)
        self.init(normalized: cosLon * cosLat, sinLon * cosLat, sinLat)
    }

    /// The dot product.
    public func dot(_ other: UnitVector3d) -> Double { x * other.x + y * other.y + z * other.z }

    /// `(v + self) × (v − self)`: twice the cross product, nearly orthogonal to both even for
    /// nearly (anti)parallel vectors (sphgeom's `robustCross`).
    func robustCross(_ v: UnitVector3d) -> Vector3d { (v.vector + vector).cross(v.vector - vector) }

    /// The unit normal of the meridian plane at longitude `lon` (sphgeom's `orthogonalTo(NormalizedAngle)`).
    static func orthogonalTo(meridian lon: Double) -> UnitVector3d { UnitVector3d(normalized: -sin(lon), cos(lon), 0) }

    /// A unit vector orthogonal to `v` (sphgeom's `orthogonalTo(Vector3d)`).
    static func orthogonalTo(_ v: UnitVector3d) -> UnitVector3d {
        abs(v.x) > abs(v.y) ? normalized(-v.z, 0, v.x) : normalized(0, v.z, -v.y)
    }

    /// The unit normal of the plane through `v1` and `v2`, or any vector orthogonal to `v1` when
    /// they are (anti)parallel.
    static func orthogonalTo(_ v1: UnitVector3d, _ v2: UnitVector3d) -> UnitVector3d {
        let n = (v2.vector + v1.vector).cross(v2.vector - v1.vector)
        return n.isZero ? orthogonalTo(v1) : UnitVector3d(n)
    }

    static let unitX = UnitVector3d(normalized: 1, 0, 0)
    static let unitY = UnitVector3d(normalized: 0, 1, 0)
    static let unitZ = UnitVector3d(normalized: 0, 0, 1)

    public var description: String { "[\(x), \(y), \(z)]" }
}

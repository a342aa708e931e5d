import Foundation

/// A circle on the unit sphere: the points within an opening angle of a centre, boundary
/// included (lsst-sphgeom's `Circle`, the same numbers and the same conservative relations).
/// Stored as sphgeom stores it: the centre, the squared chord length and the opening angle.
public struct Circle: Sendable, Hashable, CustomStringConvertible {
    /// The centre.
    public let center: UnitVector3d
    /// The squared length of the chord from the centre to the boundary; negative when empty,
    /// 4 or more when full.
    public let squaredChordLength: Double
    /// The opening angle (angular radius) in radians; negative when empty.
    public let openingAngle: Double

    /// The circle holding no point.
    public static let empty = Circle(center: .unitZ, squaredChordLength: -1, openingAngle: -1)
    /// The circle holding every point.
    public static let full = Circle(center: .unitZ, squaredChordLength: 4, openingAngle: SphgeomConstants.pi)

    init(center: UnitVector3d, squaredChordLength: Double, openingAngle: Double) {
        self.center = center
        self.squaredChordLength = squaredChordLength
        self.openingAngle = openingAngle
    }

    /// The circle around `center` with opening angle `radians` (sphgeom's
    /// `Circle(UnitVector3d, Angle)`).
    /// - Throws: ``SkyError`` for a radius that is not finite or is negative.
    public init(center: UnitVector3d, openingAngle radians: Double) throws {
        guard radians.isFinite, radians >= 0 else { throw SkyError("circle radius \(radians) rad is not a finite angle ≥ 0") }
        self.init(unchecked: center, openingAngle: radians)
    }

    /// The circle of radius `radiusDegrees` around the point at `lonDegrees`, `latDegrees`.
    /// - Throws: ``SkyError`` for a centre or radius out of range.
    public init(lonDegrees: Double, latDegrees: Double, radiusDegrees: Double) throws {
        guard radiusDegrees.isFinite, radiusDegrees >= 0 else {
            throw SkyError("circle radius \(radiusDegrees)° is not a finite angle ≥ 0")
        }
        let center = UnitVector3d(try LonLat(lonDegrees: lonDegrees, latDegrees: latDegrees))
        self.init(unchecked: center, openingAngle: radiusDegrees * SphgeomConstants.radiansPerDegree)
    }

    init(unchecked center: UnitVector3d, openingAngle: Double) {
        self.init(center: center, squaredChordLength: Self.squaredChordLength(for: openingAngle), openingAngle: openingAngle)
    }

    /// The circle around `center` whose boundary is `squaredChordLength` away (sphgeom's
    /// `Circle(UnitVector3d, double)`).
    init(center: UnitVector3d, squaredChordLength: Double) {
        self.init(center: center, squaredChordLength: squaredChordLength, openingAngle: Self.openingAngle(for: squaredChordLength))
    }

    static func squaredChordLength(for angle: Double) -> Double {
        if angle < 0 { return -1 }
        if angle >= SphgeomConstants.pi { return 4 }
        let s = sin(0.5 * angle)
        return 4 * s * s
    }

    static func openingAngle(for squaredChordLength: Double) -> Double {
        if squaredChordLength < 0 { return -1 }
        if squaredChordLength >= 4 { return SphgeomConstants.pi }
        return 2 * asin(0.5 * squaredChordLength.squareRoot())
    }

    /// True when the circle holds no point.
    public var isEmpty: Bool { !(squaredChordLength >= 0) }
    /// True when it holds every point.
    public var isFull: Bool { squaredChordLength >= 4 }

    /// Whether `v` is inside or on the boundary.
    public func contains(_ v: UnitVector3d) -> Bool {
        isFull || (v.vector - center.vector).squaredNorm <= squaredChordLength
    }

    public static func == (l: Circle, r: Circle) -> Bool {
        (l.isEmpty && r.isEmpty) || (l.isFull && r.isFull)
            || (l.center == r.center && l.squaredChordLength == r.squaredChordLength && l.openingAngle == r.openingAngle)
    }
    public func hash(into hasher: inout Hasher) {
        if isEmpty || isFull {
            hasher.combine(isEmpty)
        } else {
            hasher.combine(center)
            hasher.combine(squaredChordLength)
        }
    }

    /// How this circle relates to `c`.
    public func relate(_ c: Circle) -> Relationship {
        if isEmpty { return c.isEmpty ? [.contains, .disjoint, .within] : [.disjoint, .within] }
        if c.isEmpty { return [.contains, .disjoint] }
        if isFull { return c.isFull ? [.contains, .within] : .contains }
        if c.isFull { return .within }
        if self == c { return [.contains, .within] }
        let cc = angleBetween(center.vector, c.center.vector)
        let slack = 4 * SphgeomBounds.maxAsinError
        if cc > openingAngle + c.openingAngle + slack { return .disjoint }
        if cc + c.openingAngle + slack <= openingAngle { return .contains }
        if cc + openingAngle + slack <= c.openingAngle { return .within }
        return .intersects
    }

    /// The smallest circle holding this one and `x` (sphgeom's `expandTo(Circle)`).
    func expanded(to x: Circle) -> Circle {
        if isEmpty || x.isFull { return x }
        if x.isEmpty || isFull { return self }
        let cc = angleBetween(center.vector, x.center.vector)
        let slack = 4 * SphgeomBounds.maxAsinError
        if cc + x.openingAngle + slack <= openingAngle { return self }
        if cc + openingAngle + slack <= x.openingAngle { return x }
        let o = 0.5 * (cc + openingAngle + x.openingAngle)
        if o + 2 * SphgeomBounds.maxAsinError >= SphgeomConstants.pi { return .full }
        let n = UnitVector3d.orthogonalTo(center, x.center)
        let r = o - openingAngle
        let newCenter = UnitVector3d(center.vector * cos(r) + n.vector.cross(center.vector) * sin(r))
        return Circle(
            center: newCenter, squaredChordLength: Self.squaredChordLength(for: o + SphgeomBounds.maxAsinError),
            openingAngle: o + SphgeomBounds.maxAsinError)
    }

    /// The smaller of the two circles when they meet, else empty: a bound on their intersection
    /// (sphgeom's `clipTo(Circle)`).
    func clipped(to x: Circle) -> Circle {
        if isEmpty || x.isFull { return self }
        if isFull || x.isEmpty { return x }
        let cc = angleBetween(center.vector, x.center.vector)
        if cc > openingAngle + x.openingAngle + 4 * SphgeomBounds.maxAsinError { return .empty }
        return x.openingAngle < openingAngle ? x : self
    }

    /// A box holding the circle (sphgeom's `getBoundingBox`).
    public var boundingBox: Box {
        if isEmpty { return .empty }
        if isFull { return .full }
        let c = LonLat(center)
        let h = openingAngle + 2 * SphgeomBounds.maxAsinError
        let w = LonLat.normalized(Box.halfWidthForCircle(radius: h, latitude: c.lat) + SphgeomBounds.maxAsinError)
        return Box(center: c, halfWidth: w, halfHeight: h)
    }

    public var description: String {
        let c = LonLat(center)
        return "CIRCLE \(c.lonDegrees) \(c.latDegrees) \(openingAngle / SphgeomConstants.radiansPerDegree)"
    }
}

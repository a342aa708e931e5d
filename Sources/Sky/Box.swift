import Foundation

/// A longitude/latitude rectangle, boundary included; its longitude interval may wrap through 0
/// (lsst-sphgeom's `Box`).
public struct Box: Sendable, Hashable, CustomStringConvertible {
    var lon: LongitudeInterval
    var lat: AngleInterval

    /// The box holding no point.
    public static let empty = Box(lon: .empty, lat: .empty)
    /// The box holding every point.
    public static let full = Box(lon: .full, lat: allLatitudes)
    static let allLatitudes = AngleInterval(a: -0.5 * SphgeomConstants.pi, b: 0.5 * SphgeomConstants.pi)

    init(lon: LongitudeInterval, lat: AngleInterval) {
        self.lon = lon
        self.lat = lat
        enforceInvariants()
    }

    /// The box from `(lon1, lat1)` to `(lon2, lat2)` in degrees (sphgeom's `Box.fromDegrees`):
    /// longitudes in [0°, 360°] may wrap (lon1 > lon2 runs through 0°); beyond that range they
    /// must be ordered, and a span of 360° or more takes every longitude.
    /// - Throws: ``SkyError`` for a value that is not finite, latitudes reversed or beyond ±90°.
    public init(lon1Degrees: Double, lat1Degrees: Double, lon2Degrees: Double, lat2Degrees: Double) throws {
        let values = [lon1Degrees, lat1Degrees, lon2Degrees, lat2Degrees]
        guard values.allSatisfy(\.isFinite) else { throw SkyError("box corners \(values) are not finite") }
        guard lat1Degrees <= lat2Degrees else { throw SkyError("box latitudes \(lat1Degrees)° > \(lat2Degrees)° are reversed") }
        guard abs(lat1Degrees) <= 90, abs(lat2Degrees) <= 90 else {
            throw SkyError("box latitudes \(lat1Degrees)°, \(lat2Degrees)° go beyond ±90°")
        }
        let r = SphgeomConstants.radiansPerDegree
        do {
            self.init(
                lon: try LongitudeInterval(unnormalized: lon1Degrees * r, lon2Degrees * r),
                lat: AngleInterval(a: lat1Degrees * r, b: lat2Degrees * r))
        } catch {
            throw SkyError("box longitudes \(lon1Degrees)° > \(lon2Degrees)° are reversed (outside 0–360° they must be ordered)")
        }
    }

    /// The box centred on a point with half-width and half-height in radians (sphgeom's
    /// `Box(LonLat, Angle, Angle)`; daf_butler's `BOX(ra, dec, width, height)` halves them).
    /// - Throws: ``SkyError`` for a size that is not finite or is negative.
    public init(center: LonLat, halfWidthRadians: Double, halfHeightRadians: Double) throws {
        guard halfWidthRadians.isFinite, halfHeightRadians.isFinite, halfWidthRadians >= 0, halfHeightRadians >= 0 else {
            throw SkyError("box half-sizes \(halfWidthRadians), \(halfHeightRadians) rad are not finite angles ≥ 0")
        }
        self.init(center: center, halfWidth: halfWidthRadians, halfHeight: halfHeightRadians)
    }

    /// The box centred on a point with half-width and half-height in degrees (daf_butler's
    /// `BOX(ra, dec, width, height)` is this with half its width and height).
    /// - Throws: ``SkyError`` for a size that is not finite or is negative.
    public init(center: LonLat, halfWidthDegrees: Double, halfHeightDegrees: Double) throws {
        try self.init(
            center: center, halfWidthRadians: halfWidthDegrees * SphgeomConstants.radiansPerDegree,
            halfHeightRadians: halfHeightDegrees * SphgeomConstants.radiansPerDegree)
    }

    init(center: LonLat, halfWidth: Double, halfHeight: Double) {
        self.init(
            lon: LongitudeInterval(point: center.lon).dilated(by: halfWidth), lat: AngleInterval(point: center.lat).dilated(by: halfHeight))
    }

    /// The box with corners `p1` and `p2` (sphgeom's `Box(point1, point2)`): longitudes from
    /// p1's eastward to p2's (wrapping through 0° when p1's is larger), latitudes between theirs.
    public init(_ p1: LonLat, _ p2: LonLat) {
        self.init(lon: LongitudeInterval(a: p1.lon, b: p2.lon), lat: AngleInterval(a: p1.lat, b: p2.lat))
    }

    private mutating func enforceInvariants() {
        lat.clip(to: Self.allLatitudes)
        if lat.isEmpty {
            lon = .empty
        } else if lon.isEmpty {
            lat = .empty
        }
    }

    /// The westmost, eastmost longitudes (radians; west > east when the box wraps through 0).
    public var longitudes: (west: Double, east: Double) { (lon.a, lon.b) }
    /// The southmost, northmost latitudes (radians).
    public var latitudes: (south: Double, north: Double) { (lat.a, lat.b) }

    /// True when the box holds no point.
    public var isEmpty: Bool { lat.isEmpty }
    /// True when it holds every point.
    public var isFull: Bool { lon.isFull && lat == Self.allLatitudes }

    /// Whether the point is inside or on the boundary.
    public func contains(_ p: LonLat) -> Bool { lat.contains(p.lat) && lon.contains(p.lon) }
    /// Whether `v` is inside or on the boundary.
    public func contains(_ v: UnitVector3d) -> Bool { contains(LonLat(v)) }

    /// The half-width in longitude of the box around a circle of radius `radius` centred at
    /// `latitude` (sphgeom's `halfWidthForCircle`).
    static func halfWidthForCircle(radius r: Double, latitude: Double) -> Double {
        if r <= 0 { return 0 }
        if abs(latitude) + r >= 0.5 * SphgeomConstants.pi { return SphgeomConstants.pi }
        let s = abs(sin(r) / cos(latitude))
        if s >= 1 { return 0.5 * SphgeomConstants.pi }
        return asin(s)
    }

    mutating func expand(to x: Box) {
        lon.expand(to: x.lon)
        lat.expand(to: x.lat)
    }

    mutating func clip(to x: Box) {
        lon.clip(to: x.lon)
        lat.clip(to: x.lat)
        enforceInvariants()
    }

    /// How this box relates to `b`.
    public func relate(_ b: Box) -> Relationship {
        let r1 = lon.relate(b.lon)
        let r2 = lat.relate(b.lat)
        return r1.intersection(r2).intersection([.contains, .within]).union(r1.union(r2).intersection(.disjoint))
    }

    /// How this box relates to `c` (sphgeom's `Box::relate(Circle)`).
    public func relate(_ c: Circle) -> Relationship {
        if isEmpty { return c.isEmpty ? [.contains, .disjoint, .within] : [.disjoint, .within] }
        if c.isEmpty { return [.contains, .disjoint] }
        if isFull { return c.isFull ? [.contains, .within] : .contains }
        if c.isFull { return .within }
        let corners = [
            LonLat(uncheckedLon: lon.a, lat: lat.a), LonLat(uncheckedLon: lon.a, lat: lat.b),
            LonLat(uncheckedLon: lon.b, lat: lat.a), LonLat(uncheckedLon: lon.b, lat: lat.b),
        ].map { UnitVector3d(lon: $0.lon, lat: $0.lat).vector }
        let chordError = SphgeomBounds.maxSquaredChordLengthError
        var inside = false
        for (i, vertex) in corners.enumerated() {
            let d = (vertex - c.center.vector).squaredNorm
            if abs(d - c.squaredChordLength) < chordError { return .intersects }
            let b = d < c.squaredChordLength
            if i == 0 {
                inside = b
            } else if inside != b {
                return .intersects
            }
        }
        let normals = [UnitVector3d.orthogonalTo(meridian: lon.a).vector, UnitVector3d.orthogonalTo(meridian: lon.b).vector]
        if inside {
            for i in 0..<2 {
                let d = maxSquaredChordLength(c.center.vector, corners[2 * i + 1], corners[2 * i], normals[i], near: c.squaredChordLength)
                if d > c.squaredChordLength - chordError { return .intersects }
            }
            let anticenter = LonLat(vector: -c.center.vector)
            if lon.contains(anticenter.lon) {
                let a = min(abs(anticenter.lat - lat.a), abs(anticenter.lat - lat.b))
                let d = Circle.squaredChordLength(for: SphgeomConstants.pi - a)
                if d > c.squaredChordLength - chordError { return .intersects }
            }
            return contains(anticenter) ? .intersects : .within
        }
        for i in 0..<2 {
            let d = minSquaredChordLength(c.center.vector, corners[2 * i + 1], corners[2 * i], normals[i], near: c.squaredChordLength)
            if d < c.squaredChordLength + chordError { return .intersects }
        }
        let cc = LonLat(vector: c.center.vector)
        if lon.contains(cc.lon) {
            let a = min(abs(cc.lat - lat.a), abs(cc.lat - lat.b))
            let d = Circle.squaredChordLength(for: a)
            if d < c.squaredChordLength + chordError { return .intersects }
        }
        return contains(cc) ? .contains : .disjoint
    }

    /// A circle holding the box (sphgeom's `Box::getBoundingCircle`).
    public var boundingCircle: Circle {
        if isEmpty { return .empty }
        if isFull { return .full }
        let w = lon.size
        let pi = SphgeomConstants.pi
        if w <= pi {
            let corners = [
                UnitVector3d(lon: lon.a, lat: lat.a), UnitVector3d(lon: lon.a, lat: lat.b),
                UnitVector3d(lon: lon.b, lat: lat.a), UnitVector3d(lon: lon.b, lat: lat.b),
            ]
            let c = cos(0.5 * w)
            let phi1: Double, phi2: Double, phi3: Double
            if c == 0 {
                phi1 = (lat.a < 0 ? -0.5 : 0.5) * pi
                phi2 = (lat.b < 0 ? -0.5 : 0.5) * pi
                phi3 = 0
            } else {
                phi1 = atan(tan(lat.a) / c)
                phi2 = atan(tan(lat.b) / c)
                phi3 = atan(c * tan(lat.center))
            }
            let p: UnitVector3d
            if phi1 <= phi3 && phi3 <= phi2 {
                p = UnitVector3d(lon: lon.center, lat: phi3)
            } else {
                let p1 = UnitVector3d(lon: lon.center, lat: phi1)
                let p2 = UnitVector3d(lon: lon.center, lat: phi2)
                p = p1.dot(corners[0]) > p2.dot(corners[1]) ? p2 : p1
            }
            let cl2 = corners.map { (p.vector - $0.vector).squaredNorm }.max()!
            return Circle(center: p, squaredChordLength: cl2 + 2 * SphgeomBounds.maxSquaredChordLengthError)
        }
        var r: Double
        var v: UnitVector3d
        if abs(lat.a) <= abs(lat.b) {
            v = .unitZ
            r = 0.5 * pi - lat.a
        } else {
            v = -.unitZ
            r = lat.b + 0.5 * pi
        }
        if !lon.isFull && 0.5 * w < r {
            r = 0.5 * w
            v = UnitVector3d(lon: lon.center, lat: 0)
        }
        return Circle(unchecked: v, openingAngle: r + 4 * SphgeomBounds.maxAsinError)
    }

    public var description: String {
        let r = SphgeomConstants.radiansPerDegree
        return "RANGE \(lon.a / r) \(lon.b / r) \(lat.a / r) \(lat.b / r)"
    }
}

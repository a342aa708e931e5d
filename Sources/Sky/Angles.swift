import Foundation

/// What a sky computation refuses: a coordinate that is not finite or out of range, a level
/// or order a pixelization does not have, an index that names no pixel.
public struct SkyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, naming the value.
    public let message: String

    /// An error saying `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// π as lsst-sphgeom rounds it (`0x1.921fb54442d18p1`), and its conversion factor: values
/// computed here match sphgeom's bit for bit only with its constants.
enum SphgeomConstants {
    static let pi = 3.1415926535897932384626433832795
    static let radiansPerDegree = 0.0174532925199432957692369076849
}

/// A point on the unit sphere by longitude and latitude, in radians: longitude normalized to
/// [0, 2π) as sphgeom's `NormalizedAngle` does, latitude in [−π/2, π/2].
public struct LonLat: Sendable, Hashable, CustomStringConvertible {
    /// Longitude in radians, in [0, 2π).
    public let lon: Double
    /// Latitude in radians, in [−π/2, π/2].
    public let lat: Double

    /// A point from radians.
    /// - Throws: ``SkyError`` for a coordinate that is not finite or a latitude beyond ±π/2.
    public init(lonRadians: Double, latRadians: Double) throws {
        guard lonRadians.isFinite, latRadians.isFinite else {
            throw SkyError("coordinates (\(lonRadians), \(latRadians)) rad are not finite")
        }
        guard abs(latRadians) <= 0.5 * SphgeomConstants.pi else {
            throw SkyError("latitude \(latRadians) rad is beyond ±π/2")
        }
        lon = Self.normalized(lonRadians)
        lat = latRadians
    }

    /// A point from degrees (converted as sphgeom's `LonLat.fromDegrees`).
    /// - Throws: ``SkyError`` for a coordinate that is not finite or a latitude beyond ±90°.
    public init(lonDegrees: Double, latDegrees: Double) throws {
        guard lonDegrees.isFinite, latDegrees.isFinite else {
            throw SkyError("coordinates (\(lonDegrees)°, \(latDegrees)°) are not finite")
        }
        guard abs(latDegrees) <= 90 else { throw SkyError("latitude \(latDegrees)° is beyond ±90°") }
        try self.init(
            lonRadians: lonDegrees * SphgeomConstants.radiansPerDegree, latRadians: latDegrees * SphgeomConstants.radiansPerDegree)
    }

    /// A point from values already in range (longitude normalized, latitude within ±π/2).
    init(uncheckedLon lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }

    /// Longitude in degrees.
    public var lonDegrees: Double { lon / SphgeomConstants.radiansPerDegree }
    /// Latitude in degrees.
    public var latDegrees: Double { lat / SphgeomConstants.radiansPerDegree }

    /// sphgeom's reduction into [0, 2π).
    static func normalized(_ angle: Double) -> Double {
        if angle < 0 { return fmod(angle, 2 * SphgeomConstants.pi) + 2 * SphgeomConstants.pi }
        if angle > 2 * SphgeomConstants.pi { return fmod(angle, 2 * SphgeomConstants.pi) }
        return angle
    }

    public var description: String { "(\(lonDegrees)°, \(latDegrees)°)" }
}

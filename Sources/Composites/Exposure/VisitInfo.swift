import Foundation

/// What was observed and how: afw's `VisitInfo`, the part shared by every detector of a visit.
public struct VisitInfo: Sendable, Hashable, Codable {
    /// Shutter-open time, seconds.
    public var exposureTime: Double?
    /// Mid-exposure time as an ISO-8601 string in `timeScale`.
    public var date: String?
    /// `TAI` or `UTC`.
    public var timeScale: String
    /// Telescope boresight.
    public var boresightRaDec: SpherePoint?
    /// Rotation angle of the sky relative to the instrument, degrees.
    public var boresightRotAngle: Double?
    /// Airmass at the boresight.
    public var boresightAirmass: Double?
    /// Instrument name.
    public var instrument: String?
    /// Visit or exposure ID.
    public var id: Int64?

    /// A visit description; every field optional as in afw.
    public init(
        exposureTime: Double? = nil, date: String? = nil, timeScale: String = "TAI",
        boresightRaDec: SpherePoint? = nil, boresightRotAngle: Double? = nil, boresightAirmass: Double? = nil,
        instrument: String? = nil, id: Int64? = nil
    ) {
        self.exposureTime = exposureTime
        self.date = date
        self.timeScale = timeScale
        self.boresightRaDec = boresightRaDec
        self.boresightRotAngle = boresightRotAngle
        self.boresightAirmass = boresightAirmass
        self.instrument = instrument
        self.id = id
    }
}

/// A half-open interval of time, [begin, end), with daf_butler's semantics: bounds are TAI
/// nanoseconds since 1970-01-01T00:00:00 TAI; an unbounded begin is stored as that epoch and an
/// unbounded end as 2100-01-01T00:00:00 TAI (times outside are clamped to them, as daf_butler
/// clamps); every empty timespan is the same value, (2100, 1970).
public struct Timespan: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The first nanosecond inside (``minNanoseconds`` when unbounded below).
    public let beginNanoseconds: Int64
    /// The first nanosecond after (``maxNanoseconds`` when unbounded above).
    public let endNanoseconds: Int64

    /// The stored value of an unbounded begin (1970-01-01T00:00:00 TAI).
    public static let minNanoseconds = AstroTime.epoch.taiNanoseconds
    /// The stored value of an unbounded end (2100-01-01T00:00:00 TAI).
    public static let maxNanoseconds = AstroTime.maximum.taiNanoseconds

    /// The timespan of stored bounds; `begin ≥ end` is the empty timespan. Bounds outside
    /// [``minNanoseconds``, ``maxNanoseconds``] are clamped.
    public init(nanoseconds begin: Int64, _ end: Int64) {
        let (begin, end) = (Self.clamped(begin), Self.clamped(end))
        if begin >= end {
            (beginNanoseconds, endNanoseconds) = (Self.maxNanoseconds, Self.minNanoseconds)
        } else {
            (beginNanoseconds, endNanoseconds) = (begin, end)
        }
    }

    /// [begin, end); nil bounds are unbounded. Equal bounds make the instant [t, t + 1 ns), as
    /// daf_butler's constructor does.
    /// - Throws: ``ButlerError/Code/invalidParameter`` for an instant at an unbounded end.
    public init(begin: AstroTime?, end: AstroTime?) throws {
        let first = begin.map { Self.clamped($0.taiNanoseconds) } ?? Self.minNanoseconds
        var last = end.map { Self.clamped($0.taiNanoseconds) } ?? Self.maxNanoseconds
        if first == last {
            // daf_butler refuses these too: [t, t + 1 ns) needs room on both sides.
            guard first != Self.maxNanoseconds, first != Self.minNanoseconds else {
                throw ButlerError(
                    .invalidParameter,
                    "a timespan from \(begin.map(String.init(describing:)) ?? "-∞") to \(end.map(String.init(describing:)) ?? "∞") is an instant at an unbounded end, which cannot be stored"
                )
            }
            last += 1
        }
        self.init(nanoseconds: first, last)
    }

    /// A bound moved into the stored range, as daf_butler clamps times before 1970 and after 2100.
    private static func clamped(_ nanoseconds: Int64) -> Int64 {
        Swift.min(Swift.max(nanoseconds, minNanoseconds), maxNanoseconds)
    }

    /// Every time: (-∞, ∞).
    public static let unbounded = Timespan(nanoseconds: minNanoseconds, maxNanoseconds)
    /// No time at all.
    public static let empty = Timespan(nanoseconds: maxNanoseconds, minNanoseconds)

    /// The instant `time` as [time, time + 1 ns).
    public static func instant(_ time: AstroTime) throws -> Timespan {
        try Timespan(begin: time, end: time)
    }

    /// The 24 hours of an observing day `YYYYMMDD`, from TAI midnight plus `offset` seconds
    /// (daf_butler's `Timespan.from_day_obs`).
    /// - Throws: ``ButlerError/Code/invalidParameter`` for a value that is not a date from 1970 on.
    public static func dayObs(_ dayObs: Int, offset: Int = 0) throws -> Timespan {
        let (year, month, day) = (dayObs / 10_000, dayObs / 100 % 100, dayObs % 100)
        guard (1970...9999).contains(year), (1...12).contains(month), (1...CivilTime.daysIn(month: month, year: year)).contains(day)
        else {
            throw ButlerError(.invalidParameter, "day_obs must be a date YYYYMMDD from 1970 on, not \(dayObs)")
        }
        let midnight = Int64(CivilTime.daysSinceEpoch(year: year, month: month, day: day)) * secondsPerDay + Int64(offset)
        return Timespan(nanoseconds: midnight * nanosecondsPerSecond, (midnight + secondsPerDay) * nanosecondsPerSecond)
    }

    /// True for the empty timespan.
    public var isEmpty: Bool { beginNanoseconds >= endNanoseconds }
    /// The first instant inside, or nil when unbounded below (or empty).
    public var begin: AstroTime? {
        isEmpty || beginNanoseconds == Self.minNanoseconds ? nil : AstroTime(taiNanoseconds: beginNanoseconds)
    }
    /// The first instant after, or nil when unbounded above (or empty).
    public var end: AstroTime? {
        isEmpty || endNanoseconds == Self.maxNanoseconds ? nil : AstroTime(taiNanoseconds: endNanoseconds)
    }

    /// True when the two share an instant (never for an empty one).
    public func overlaps(_ other: Timespan) -> Bool {
        endNanoseconds > other.beginNanoseconds && other.endNanoseconds > beginNanoseconds
    }

    /// True when `time` is inside.
    public func contains(_ time: AstroTime) -> Bool {
        beginNanoseconds <= time.taiNanoseconds && time.taiNanoseconds < endNanoseconds
    }

    /// True when `other` lies inside (always for an empty `other`).
    public func contains(_ other: Timespan) -> Bool {
        other.isEmpty || (beginNanoseconds <= other.beginNanoseconds && endNanoseconds >= other.endNanoseconds)
    }

    /// The time inside both.
    public func intersection(_ other: Timespan) -> Timespan {
        Timespan(nanoseconds: Swift.max(beginNanoseconds, other.beginNanoseconds), Swift.min(endNanoseconds, other.endNanoseconds))
    }

    /// The (zero, one or two) non-empty timespans inside this one and outside `other`.
    public func difference(_ other: Timespan) -> [Timespan] {
        let shared = intersection(other)
        if shared.isEmpty { return isEmpty ? [] : [self] }
        var pieces: [Timespan] = []
        if shared.beginNanoseconds > beginNanoseconds { pieces.append(Timespan(nanoseconds: beginNanoseconds, shared.beginNanoseconds)) }
        if shared.endNanoseconds < endNanoseconds { pieces.append(Timespan(nanoseconds: shared.endNanoseconds, endNanoseconds)) }
        return pieces
    }

    /// daf_butler's rendering: `[2013-11-02T10:00:00, 2013-11-02T10:00:30)` in TAI, `(-∞, …`,
    /// `…, ∞)`, `(empty)`.
    public var description: String {
        if isEmpty { return "(empty)" }
        let head = begin.map { "[\($0.isot(scale: .tai, fractionDigits: 0)), " } ?? "(-∞, "
        let tail = end.map { "\($0.isot(scale: .tai, fractionDigits: 0)))" } ?? "∞)"
        return head + tail
    }

    /// Encoded as daf_butler serialises a timespan: `[begin, end]` nanoseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(beginNanoseconds)
        try container.encode(endNanoseconds)
    }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        self.init(nanoseconds: try container.decode(Int64.self), try container.decode(Int64.self))
    }
}

import Foundation

/// How two regions relate, as lsst-sphgeom's `Relationship` bits: `disjoint`, `contains`,
/// `within`; the empty set means they intersect without either holding the other. Bits are
/// set only when sure, so an answer may be conservative (sphgeom's convention).
public struct Relationship: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The regions share no point.
    public static let disjoint = Relationship(rawValue: 1)
    /// The first region holds every point of the second.
    public static let contains = Relationship(rawValue: 2)
    /// The second region holds every point of the first.
    public static let within = Relationship(rawValue: 4)
    /// No bit: the regions may intersect.
    public static let intersects: Relationship = []

    /// The relationship seen from the other region (contains and within swapped).
    public var inverted: Relationship {
        var result = intersection(.disjoint)
        if contains(.contains) { result.insert(.within) }
        if contains(.within) { result.insert(.contains) }
        return result
    }

    public var description: String {
        let names = [(Relationship.disjoint, "disjoint"), (.contains, "contains"), (.within, "within")]
            .filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "intersects" : names.joined(separator: "|")
    }
}

/// An interval by its two ends, with the equality, hashing and relations that every empty
/// interval shares (sphgeom's intervals: all empty intervals are equal).
protocol EndpointInterval: Hashable {
    var a: Double { get }
    var b: Double { get }
    var isEmpty: Bool { get }
}

extension EndpointInterval {
    static func == (l: Self, r: Self) -> Bool { (l.a == r.a && l.b == r.b) || (l.isEmpty && r.isEmpty) }

    func hash(into hasher: inout Hasher) {
        if isEmpty {
            hasher.combine(0)
        } else {
            hasher.combine(a)
            hasher.combine(b)
        }
    }

    /// The relation when either interval is empty or both are the same, else nil.
    func trivialRelation(_ x: Self) -> Relationship? {
        if isEmpty { return x.isEmpty ? [.contains, .disjoint, .within] : [.disjoint, .within] }
        if x.isEmpty { return [.contains, .disjoint] }
        if a == x.a && b == x.b { return [.contains, .within] }
        return nil
    }
}

/// A closed interval of latitudes (radians); empty when `a > b` or either is NaN (sphgeom's
/// `AngleInterval`).
struct AngleInterval: Sendable, EndpointInterval {
    var a: Double
    var b: Double

    static let empty = AngleInterval(a: 1, b: 0)
    init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }
    init(point x: Double) { self.init(a: x, b: x) }

    var isEmpty: Bool { !(a <= b) }
    var center: Double { 0.5 * (a + b) }
    var size: Double { b - a }

    func contains(_ x: Double) -> Bool { (a <= x && x <= b) || x.isNaN }
    func isDisjoint(from x: AngleInterval) -> Bool { isEmpty || x.isEmpty || a > x.b || b < x.a }

    func relate(_ x: AngleInterval) -> Relationship {
        if let trivial = trivialRelation(x) { return trivial }
        if a > x.b || b < x.a { return .disjoint }
        if a <= x.a && b >= x.b { return .contains }
        if x.a <= a && x.b >= b { return .within }
        return .intersects
    }

    mutating func clip(to x: AngleInterval) {
        if x.isEmpty {
            self = x
        } else if !isEmpty {
            a = max(a, x.a)
            b = min(b, x.b)
        }
    }

    mutating func expand(to x: Double) {
        if isEmpty {
            a = x
            b = x
        } else if x < a {
            a = x
        } else if x > b {
            b = x
        }
    }

    mutating func expand(to x: AngleInterval) {
        if isEmpty {
            self = x
        } else if !x.isEmpty {
            a = min(a, x.a)
            b = max(b, x.b)
        }
    }

    func dilated(by x: Double) -> AngleInterval {
        guard !x.isNaN, !isEmpty else { return self }
        return AngleInterval(a: a - x, b: b + x)
    }
}

/// A closed interval of longitudes in [0, 2π] that may wrap through 0 (`a > b`); empty when an
/// end is NaN, full as [0, 2π] (sphgeom's `NormalizedAngleInterval`).
struct LongitudeInterval: Sendable, EndpointInterval {
    var a: Double
    var b: Double

    static let empty = LongitudeInterval(a: .nan, b: .nan)
    static let full = LongitudeInterval(a: 0, b: 2 * SphgeomConstants.pi)

    init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }
    init(point x: Double) { self.init(a: x, b: x) }

    /// An interval from unnormalized ends (sphgeom's `NormalizedAngleInterval(Angle, Angle)`):
    /// ends in [0, 2π] are taken as they are (so it may wrap); otherwise `x ≤ y` is required and
    /// a span of 2π or more is everything.
    init(unnormalized x: Double, _ y: Double) throws {
        if x.isNaN || y.isNaN {
            self = .empty
            return
        }
        let twoPi = 2 * SphgeomConstants.pi
        let normalizedX = x >= 0 && x <= twoPi, normalizedY = y >= 0 && y <= twoPi
        if !normalizedX || !normalizedY {
            guard x <= y else { throw SkyError("longitude interval [\(x), \(y)] rad has its ends reversed") }
            if y - x >= twoPi {
                self = .full
                return
            }
        }
        self.init(a: LonLat.normalized(x), b: LonLat.normalized(y))
    }

    var isEmpty: Bool { a.isNaN || b.isNaN }
    var isFull: Bool { a == 0 && b == 2 * SphgeomConstants.pi }
    var wraps: Bool { a > b }
    /// sphgeom's `NormalizedAngle::center`.
    var center: Double {
        let c = 0.5 * (a + b)
        if a <= b { return c }
        return c < SphgeomConstants.pi ? c + SphgeomConstants.pi : c - SphgeomConstants.pi
    }
    var size: Double { Self.angle(from: a, to: b) }

    /// The angle from `x` to `y` counter-clockwise (sphgeom's `getAngleTo`).
    static func angle(from x: Double, to y: Double) -> Double {
        let d = y - x
        return d < 0 ? 2 * SphgeomConstants.pi + d : d
    }

    func contains(_ x: Double) -> Bool {
        if x.isNaN { return true }
        return wraps ? (x <= b || a <= x) : (a <= x && x <= b)
    }

    func isDisjoint(from x: LongitudeInterval) -> Bool {
        if x.isEmpty || isEmpty { return true }
        if x.wraps { return wraps ? false : (x.a > b && x.b < a) }
        if wraps { return a > x.b && b < x.a }
        return x.b < a || x.a > b
    }

    func relate(_ x: LongitudeInterval) -> Relationship {
        if let trivial = trivialRelation(x) { return trivial }
        if wraps {
            if x.wraps {
                if a <= x.a && b >= x.b { return .contains }
                if a >= x.a && b <= x.b { return .within }
                return .intersects
            }
            if x.isFull { return .within }
            if a <= x.a || b >= x.b { return .contains }
            return a > x.b && b < x.a ? .disjoint : .intersects
        }
        if x.wraps {
            if isFull { return .contains }
            if x.a <= a || x.b >= b { return .within }
            return x.a > b && x.b < a ? .disjoint : .intersects
        }
        if a <= x.a && b >= x.b { return .contains }
        if a >= x.a && b <= x.b { return .within }
        return a <= x.b && b >= x.a ? .intersects : .disjoint
    }

    mutating func clip(to x: LongitudeInterval) {
        if x.isEmpty {
            self = .empty
        } else if contains(x.a) {
            if contains(x.b) {
                if size >= x.size { self = x }
            } else {
                a = x.a
            }
        } else if contains(x.b) {
            b = x.b
        } else if !x.contains(a) {
            self = .empty
        }
    }

    mutating func expand(to x: LongitudeInterval) {
        guard !x.isEmpty else { return }
        if contains(x.a) {
            if contains(x.b) {
                if wraps != x.wraps { self = .full }
            } else {
                b = x.b
            }
        } else if contains(x.b) {
            a = x.a
        } else if isEmpty || x.contains(a) {
            self = x
        } else if Self.angle(from: b, to: x.a) < Self.angle(from: x.b, to: a) {
            b = x.b
        } else {
            a = x.a
        }
    }

    /// sphgeom's `NormalizedAngleInterval::dilatedBy` (negative `x` erodes).
    func dilated(by x: Double) -> LongitudeInterval {
        if isEmpty || isFull || x == 0 || x.isNaN { return self }
        let pi = SphgeomConstants.pi
        var newA = a - x
        var newB = b + x
        if x > 0 {
            if x >= pi { return .full }
            if wraps {
                if newA <= newB { return .full }
            } else {
                if newA < 0 {
                    newA += 2 * pi
                    if newA <= newB { return .full }
                }
                if newB > 2 * pi {
                    newB -= 2 * pi
                    if newA <= newB { return .full }
                }
            }
        } else {
            if x <= -pi { return .empty }
            if wraps {
                if newA > 2 * pi {
                    newA -= 2 * pi
                    if newA > newB { return .empty }
                }
                if newB < 0 {
                    newB += 2 * pi
                    if newA > newB { return .empty }
                }
            } else if newA > newB {
                return .empty
            }
        }
        // Ends here are within (−2π, 4π) and ordered as sphgeom's constructor expects.
        return (try? LongitudeInterval(unnormalized: newA, newB)) ?? .full
    }
}

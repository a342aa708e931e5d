/// A set of 64-bit integers as half-open ranges, with lsst-sphgeom's conventions: the universe
/// is [0, 2⁶⁴), arithmetic is modular, a range `(first, last)` with `first == last` is the whole
/// universe and one with `first > last` wraps around (so `(x, 0)` runs to the end). Pixel index
/// sets (coverings of regions) are range sets.
public struct RangeSet: Sendable, Hashable, CustomStringConvertible {
    /// Whether 0 is in the set.
    private var containsZero = false
    /// Where membership toggles, strictly increasing, never 0 (that is `containsZero`).
    private var toggles: [UInt64] = []

    /// The empty set.
    public init() {}

    /// The integers of the ranges given (each `(first, last)`, sphgeom's conventions).
    public init(_ ranges: [(UInt64, UInt64)]) {
        for (first, last) in ranges { insert(first, last) }
    }

    /// The set holding `value` alone.
    public init(value: UInt64) { insert(value, value &+ 1) }

    /// The whole universe.
    public static var full: RangeSet {
        var set = RangeSet()
        set.containsZero = true
        return set
    }

    private static func single(_ first: UInt64, _ last: UInt64) -> RangeSet {
        var set = RangeSet()
        if first == last {
            set.containsZero = true
        } else if first < last {
            if first == 0 { set.containsZero = true } else { set.toggles.append(first) }
            set.toggles.append(last)
        } else if last == 0 {
            set.toggles = [first]
        } else {
            set.containsZero = true
            set.toggles = [last, first]
        }
        return set
    }

    /// Adds the integers of `[first, last)`.
    public mutating func insert(_ first: UInt64, _ last: UInt64) {
        // Appending after the last range (how coverings are built, in ascending order) is done
        // in place; anything else is a union.
        if first != 0, first < last, let end = toggles.last, first >= end, containsZero == (toggles.count % 2 == 1) {
            if first == end {
                toggles[toggles.count - 1] = last
            } else {
                toggles.append(first)
                toggles.append(last)
            }
            return
        }
        self = union(Self.single(first, last))
    }

    /// How many ranges the set has, counted as sphgeom's `size()` (a range wrapping through the
    /// end of the universe is one).
    public var rangeCount: Int { (toggles.count + (containsZero ? 1 : 0) + 1) / 2 }

    /// Removes the integers of `[first, last)`.
    public mutating func erase(_ first: UInt64, _ last: UInt64) { self = difference(Self.single(first, last)) }

    /// Whether `value` is in the set.
    public func contains(_ value: UInt64) -> Bool {
        var low = 0, high = toggles.count
        while low < high {
            let middle = (low + high) / 2
            if toggles[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return containsZero != (low % 2 == 1)
    }

    /// The set's ranges in order, as sphgeom lists them: `(first, last)` with `last == 0` for a
    /// range running to 2⁶⁴ (the whole universe is `(0, 0)`).
    public var ranges: [(UInt64, UInt64)] {
        var result: [(UInt64, UInt64)] = []
        var inside = containsZero
        var start: UInt64 = 0
        for toggle in toggles {
            if inside { result.append((start, toggle)) } else { start = toggle }
            inside.toggle()
        }
        if inside { result.append((start, 0)) }
        return result
    }

    /// True when no integer is in the set.
    public var isEmpty: Bool { !containsZero && toggles.isEmpty }
    /// True when every integer is.
    public var isFull: Bool { containsZero && toggles.isEmpty }

    /// How many integers are in the set, modulo 2⁶⁴ (0 for the empty and the full set, as
    /// sphgeom counts).
    public var cardinality: UInt64 { ranges.reduce(0) { $0 &+ ($1.1 &- $1.0) } }

    /// The integers not in the set.
    public var complement: RangeSet {
        var set = self
        set.containsZero.toggle()
        return set
    }

    /// The union.
    public func union(_ other: RangeSet) -> RangeSet { combine(other) { $0 || $1 } }
    /// The intersection.
    public func intersection(_ other: RangeSet) -> RangeSet { combine(other) { $0 && $1 } }
    /// What is in this set and not in `other`.
    public func difference(_ other: RangeSet) -> RangeSet { combine(other) { $0 && !$1 } }
    /// What is in exactly one of the two.
    public func symmetricDifference(_ other: RangeSet) -> RangeSet { combine(other) { $0 != $1 } }

    /// Whether the sets share an integer.
    public func intersects(_ other: RangeSet) -> Bool { !intersection(other).isEmpty }
    /// Whether every integer of `other` is in this set.
    public func contains(_ other: RangeSet) -> Bool { other.difference(self).isEmpty }

    /// The set coarsened to multiples of 2ⁿ: each range's first rounded down and last rounded
    /// up (sphgeom's `simplify`: a covering made coarser stays a covering).
    public func simplified(_ n: Int) -> RangeSet {
        if isEmpty || n <= 0 { return self }
        if n >= 64 { return .full }
        let mask = (UInt64(1) << UInt64(n)) - 1
        var result = RangeSet()
        for (first, last) in ranges { result = result.union(Self.single(first & ~mask, (last &+ mask) & ~mask)) }
        return result
    }

    /// A set from both sets' memberships, by a sweep over their toggles.
    private func combine(_ other: RangeSet, _ rule: (Bool, Bool) -> Bool) -> RangeSet {
        var result = RangeSet()
        var a = containsZero, b = other.containsZero
        result.containsZero = rule(a, b)
        var current = result.containsZero
        var i = 0, j = 0
        while i < toggles.count || j < other.toggles.count {
            let next = min(i < toggles.count ? toggles[i] : .max, j < other.toggles.count ? other.toggles[j] : .max)
            if i < toggles.count && toggles[i] == next {
                a.toggle()
                i += 1
            }
            if j < other.toggles.count && other.toggles[j] == next {
                b.toggle()
                j += 1
            }
            let state = rule(a, b)
            if state != current {
                result.toggles.append(next)
                current = state
            }
        }
        return result
    }

    public var description: String { "[" + ranges.map { "(\($0.0), \($0.1))" }.joined(separator: ", ") + "]" }

    public static func == (lhs: RangeSet, rhs: RangeSet) -> Bool {
        lhs.containsZero == rhs.containsZero && lhs.toggles == rhs.toggles
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(containsZero)
        hasher.combine(toggles)
    }
}

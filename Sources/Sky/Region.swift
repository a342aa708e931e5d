import Foundation

/// A region of the sky: one of lsst-sphgeom's region types, or a union or intersection of
/// regions. Relations follow sphgeom's (exact where its are, conservative elsewhere), and the
/// binary encoding is sphgeom's, so regions written by daf_butler read here and ours read there.
public indirect enum Region: Sendable, Hashable, CustomStringConvertible {
    case circle(Circle)
    case box(Box)
    case polygon(ConvexPolygon)
    /// The points in any operand (no operand: nothing).
    case union([Region])
    /// The points in every operand (no operand: everything).
    case intersection([Region])

    /// The union of regions, nested unions flattened (as sphgeom's `UnionRegion` does).
    public static func unionOf(_ operands: [Region]) -> Region {
        .union(operands.flatMap { if case .union(let inner) = $0 { inner } else { [$0] } })
    }

    /// The intersection of regions, nested intersections flattened.
    public static func intersectionOf(_ operands: [Region]) -> Region {
        .intersection(operands.flatMap { if case .intersection(let inner) = $0 { inner } else { [$0] } })
    }

    /// Whether `v` is in the region (boundary included).
    public func contains(_ v: UnitVector3d) -> Bool {
        switch self {
        case .circle(let c): c.contains(v)
        case .box(let b): b.contains(v)
        case .polygon(let p): p.contains(v)
        case .union(let operands): operands.contains { $0.contains(v) }
        case .intersection(let operands): operands.allSatisfy { $0.contains(v) }
        }
    }

    /// Whether the point is in the region.
    public func contains(_ point: LonLat) -> Bool { contains(UnitVector3d(point)) }

    /// How this region relates to `other` (sphgeom's `relate`).
    public func relate(_ other: Region) -> Relationship {
        switch (self, other) {
        case (.union(let operands), _): return Self.relateUnion(operands, other)
        case (.intersection(let operands), _): return Self.relateIntersection(operands, other)
        case (_, .union), (_, .intersection): return other.relate(self).inverted
        case (.circle(let a), .circle(let b)): return a.relate(b)
        case (.circle(let a), .box(let b)): return b.relate(a).inverted
        case (.circle(let a), .polygon(let b)): return b.relate(a).inverted
        case (.box(let a), .circle(let b)): return a.relate(b)
        case (.box(let a), .box(let b)): return a.relate(b)
        case (.box(let a), .polygon(let b)): return b.relate(a).inverted
        case (.polygon(let a), .circle(let b)): return a.relate(b)
        case (.polygon(let a), .box(let b)): return a.relate(b)
        case (.polygon(let a), .polygon(let b)): return a.relate(b)
        }
    }

    private static func relateUnion(_ operands: [Region], _ other: Region) -> Relationship {
        guard !operands.isEmpty else { return .disjoint }
        var result: Relationship = [.disjoint, .within]
        for operand in operands {
            let r = operand.relate(other)
            if !r.contains(.disjoint) { result.remove(.disjoint) }
            if !r.contains(.within) { result.remove(.within) }
            if r.contains(.contains) { result.insert(.contains) }
            if result == .contains { break }
        }
        return result
    }

    private static func relateIntersection(_ operands: [Region], _ other: Region) -> Relationship {
        var result: Relationship = .contains
        for operand in operands {
            let r = operand.relate(other)
            if !r.contains(.contains) { result.remove(.contains) }
            if r.contains(.disjoint) { result.insert(.disjoint) }
            if r.contains(.within) { result.insert(.within) }
            if result == [.disjoint, .within] { break }
        }
        return result
    }

    /// Whether the regions share a point: `true` or `false` when that is certain, `nil` when
    /// sphgeom's relations cannot tell (a box against a polygon near their boundaries, a
    /// compound region) — sphgeom's `overlaps`.
    public func overlaps(_ other: Region) -> Bool? {
        switch (self, other) {
        case (.union(let operands), _):
            var maybe = false
            for operand in operands {
                switch operand.overlaps(other) {
                case true?: return true
                case nil: maybe = true
                case false?: break
                }
            }
            return maybe ? nil : false
        case (.intersection(let operands), _):
            if operands.isEmpty { return !other.isEmpty }
            for operand in operands where operand.overlaps(other) == false { return false }
            return nil
        case (_, .union), (_, .intersection): return other.overlaps(self)
        case (.circle(let a), .circle(let b)): return !a.relate(b).contains(.disjoint)
        case (.circle, .polygon), (.polygon, .circle), (.polygon, .polygon), (.box, .circle), (.circle, .box):
            return !relate(other).contains(.disjoint)
        case (.box(let a), .box(let b)): return !a.isEmpty && !b.isEmpty && !a.lat.isDisjoint(from: b.lat) && !a.lon.isDisjoint(from: b.lon)
        case (.box, .polygon), (.polygon, .box):
            let r = relate(other)
            if r.contains(.disjoint) { return false }
            if !r.isDisjoint(with: [.contains, .within]) { return true }
            return nil
        }
    }

    /// True when the region certainly holds no point.
    public var isEmpty: Bool {
        switch self {
        case .circle(let c): c.isEmpty
        case .box(let b): b.isEmpty
        case .polygon: false
        case .union(let operands): operands.allSatisfy(\.isEmpty)
        case .intersection(let operands):
            if operands.isEmpty {
                false
            } else if operands.allSatisfy(\.isEmpty) {
                true
            } else {
                operands.indices.contains { i in operands[(i + 1)...].contains { operands[i].overlaps($0) == false } }
            }
        }
    }

    /// A box holding the region.
    public var boundingBox: Box {
        switch self {
        case .circle(let c): return c.boundingBox
        case .box(let b): return b
        case .polygon(let p): return p.boundingBox
        case .union(let operands):
            guard var box = operands.first?.boundingBox else { return .empty }
            for operand in operands.dropFirst() { box.expand(to: operand.boundingBox) }
            return box
        case .intersection(let operands):
            guard var box = operands.first?.boundingBox else { return .full }
            for operand in operands.dropFirst() { box.clip(to: operand.boundingBox) }
            return box
        }
    }

    /// A circle holding the region.
    public var boundingCircle: Circle {
        switch self {
        case .circle(let c): return c
        case .box(let b): return b.boundingCircle
        case .polygon(let p): return p.boundingCircle
        case .union(let operands):
            guard var circle = operands.first?.boundingCircle else { return .empty }
            for operand in operands.dropFirst() { circle = circle.expanded(to: operand.boundingCircle) }
            return circle
        case .intersection(let operands):
            guard var circle = operands.first?.boundingCircle else { return .full }
            for operand in operands.dropFirst() { circle = circle.clipped(to: operand.boundingCircle) }
            return circle
        }
    }

    public var description: String {
        switch self {
        case .circle(let c): c.description
        case .box(let b): b.description
        case .polygon(let p): p.description
        case .union(let operands): "UNION(" + operands.map(\.description).joined(separator: ", ") + ")"
        case .intersection(let operands): "INTERSECTION(" + operands.map(\.description).joined(separator: ", ") + ")"
        }
    }
}

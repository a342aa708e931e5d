import Foundation

/// The three vertices of an HTM trixel, as a collection the polygon computations take without
/// allocating.
struct Trixel: RandomAccessCollection {
    var v0: UnitVector3d
    var v1: UnitVector3d
    var v2: UnitVector3d
    var startIndex: Int { 0 }
    var endIndex: Int { 3 }
    subscript(position: Int) -> UnitVector3d { position == 0 ? v0 : position == 1 ? v1 : v2 }
}

/// sphgeom's pixel finder: a depth-first walk down the hierarchy relating each pixel to the
/// region — a disjoint pixel is dropped, a pixel within the region is taken whole, a pixel at
/// the target level is taken when looking for an envelope — coarsening the level whenever the
/// result holds more than `maxRanges` ranges (ranges grow outward for an envelope, shrink inward
/// for an interior).
struct HTMPixelFinder {
    let region: Region
    let interiorOnly: Bool
    let desiredLevel: Int
    var level: Int
    let maxRanges: Int
    var ranges = RangeSet()
    /// The bounding circle (centre, opening angle) of a polygon region, whose relation to a
    /// trixel is exact and costs every vertex against every edge: a trixel whose own bounding
    /// circle is clearly apart from it is disjoint, as the full relation would find, without
    /// computing it. (A circle's relation is cheaper than this test; a box's is conservative in
    /// sphgeom, so both always take the full relation.)
    let bound: (center: UnitVector3d, radius: Double)?

    init(region: Region, level: Int, interiorOnly: Bool, maxRanges: Int) {
        self.region = region
        self.interiorOnly = interiorOnly
        desiredLevel = level
        self.level = level
        self.maxRanges = maxRanges <= 0 ? Int.max : maxRanges
        switch region {
        case .polygon:
            let circle = region.boundingCircle
            bound = circle.isEmpty || circle.isFull ? nil : (circle.center, circle.openingAngle)
        default:
            bound = nil
        }
    }

    /// True when the trixel's bounding circle and the region's are apart by far more than
    /// rounding (1e-9 rad): then the two cannot meet.
    private func clearlyApart(_ trixel: Trixel) -> Bool {
        guard let bound else { return false }
        let sum = (
            trixel.v0.x + trixel.v1.x + trixel.v2.x, trixel.v0.y + trixel.v1.y + trixel.v2.y, trixel.v0.z + trixel.v1.z + trixel.v2.z
        )
        let length = (sum.0 * sum.0 + sum.1 * sum.1 + sum.2 * sum.2).squareRoot()
        let c = (sum.0 / length, sum.1 / length, sum.2 / length)
        @inline(__always) func angle(_ v: UnitVector3d) -> Double {
            let dx: Double = v.x - c.0, dy: Double = v.y - c.1, dz: Double = v.z - c.2
            let chord: Double = (dx * dx + dy * dy + dz * dz).squareRoot()
            return 2 * asin(min(1, chord / 2))
        }
        let radius = max(angle(trixel.v0), angle(trixel.v1), angle(trixel.v2))
        return angle(bound.center) > radius + bound.radius + 1e-9
    }

    mutating func run() -> RangeSet {
        for root in 0..<8 {
            let (v0, v1, v2) = HTMPixelization.rootVertices(root)
            visit(Trixel(v0: v0, v1: v1, v2: v2), index: UInt64(root + 8), level: 0)
        }
        return ranges
    }

    private func relate(_ trixel: Trixel, _ region: Region) -> Relationship {
        switch region {
        case .circle(let c): PolygonGeometry.relate(trixel, c)
        case .box(let b): PolygonGeometry.relate(trixel, b)
        case .polygon(let p): PolygonGeometry.relate(trixel, p.vertices)
        case .union, .intersection: .intersects  // split by `covering` before a walk
        }
    }

    private mutating func visit(_ trixel: Trixel, index: UInt64, level pixelLevel: Int) {
        if pixelLevel > level || clearlyApart(trixel) { return }
        let r = relate(trixel, region)
        if r.contains(.disjoint) { return }
        if r.contains(.within) {
            insert(index, pixelLevel)
            return
        }
        if pixelLevel == level {
            if !interiorOnly { insert(index, pixelLevel) }
            return
        }
        let m12 = trixel.v1.midpoint(trixel.v2), m20 = trixel.v2.midpoint(trixel.v0), m01 = trixel.v0.midpoint(trixel.v1)
        for k: UInt64 in 0..<4 {
            let (v0, v1, v2) = HTMPixelization.child(k, trixel.v0, trixel.v1, trixel.v2, m01: m01, m20: m20, m12: m12)
            visit(Trixel(v0: v0, v1: v1, v2: v2), index: index * 4 + k, level: pixelLevel + 1)
        }
    }

    private mutating func insert(_ index: UInt64, _ pixelLevel: Int) {
        var shift = UInt64(2 * (desiredLevel - pixelLevel))
        ranges.insert(index << shift, (index + 1) << shift)
        while ranges.rangeCount > maxRanges {
            level -= 1
            shift += 2
            if interiorOnly { ranges = ranges.complement }
            ranges = ranges.simplified(Int(shift))
            if interiorOnly { ranges = ranges.complement }
        }
    }
}

extension HTMPixelization {
    /// The indices of every pixel that may meet `region`: a superset of the pixels it touches
    /// (sphgeom's `envelope`, identical to it). With `maxRanges` > 0 the result has at most that
    /// many ranges (coarser, so larger) — for a single shape; a union or intersection combines
    /// its operands' coverings and may hold more.
    public func envelope(_ region: Region, maxRanges: Int = 0) -> RangeSet {
        covering(region, interiorOnly: false, maxRanges: maxRanges)
    }

    /// The indices of pixels certainly inside `region` (sphgeom's `interior`).
    public func interior(_ region: Region, maxRanges: Int = 0) -> RangeSet {
        covering(region, interiorOnly: true, maxRanges: maxRanges)
    }

    /// All indices of this level.
    public var universe: RangeSet { RangeSet([(8 << UInt64(2 * level), 16 << UInt64(2 * level))]) }

    private func covering(_ region: Region, interiorOnly: Bool, maxRanges: Int) -> RangeSet {
        switch region {
        case .union(let operands):
            return operands.reduce(RangeSet()) { $0.union(covering($1, interiorOnly: interiorOnly, maxRanges: maxRanges)) }
        case .intersection(let operands):
            return operands.reduce(universe) { $0.intersection(covering($1, interiorOnly: interiorOnly, maxRanges: maxRanges)) }
        default:
            var finder = HTMPixelFinder(region: region, level: level, interiorOnly: interiorOnly, maxRanges: maxRanges)
            return finder.run()
        }
    }

    /// The region of pixel `index`: its triangle.
    /// - Throws: ``SkyError`` for an index that is not a pixel of this level.
    public func pixelRegion(_ index: UInt64) throws -> Region { .polygon(ConvexPolygon(trusted: try triangle(index))) }
}

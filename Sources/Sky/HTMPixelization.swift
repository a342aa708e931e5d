/// The Hierarchical Triangular Mesh of lsst-sphgeom: 8 root triangles (indices 8–15) split in
/// four at each level, a pixel's index its parent's times 4 plus its child number.
public struct HTMPixelization: Sendable, Hashable {
    /// The subdivision level, 0–24.
    public let level: Int

    /// The deepest level sphgeom supports (a 64-bit index holds it).
    public static let maxLevel = 24

    /// The pixelization at `level`.
    /// - Throws: ``SkyError`` for a level outside 0–24.
    public init(level: Int) throws {
        guard (0...Self.maxLevel).contains(level) else { throw SkyError("HTM level \(level) is outside 0–\(Self.maxLevel)") }
        self.level = level
    }

    /// The vertices of root triangle `root` (0–7: S0–S3, N0–N3), counter-clockwise.
    static func rootVertices(_ root: Int) -> (UnitVector3d, UnitVector3d, UnitVector3d) {
        let x = UnitVector3d.unitX, y = UnitVector3d.unitY, z = UnitVector3d.unitZ
        switch root {
        case 0: return (x, -z, y)
        case 1: return (y, -z, -x)
        case 2: return (-x, -z, -y)
        case 3: return (-y, -z, x)
        case 4: return (x, z, -y)
        case 5: return (-y, z, -x)
        case 6: return (-x, z, y)
        default: return (y, z, x)
        }
    }

    /// The index of the pixel containing `v` (points on an edge go where sphgeom puts them).
    ///
    /// Decided first with cheaper arithmetic (midpoints scaled by one reciprocal square root,
    /// where sphgeom divides six times): each choice of child is the sign of a determinant;
    /// while every one is farther from zero than that determinant's rounding plus the effect of
    /// the few ulps by which these midpoints' directions can differ from sphgeom's (an effect
    /// that shrinks with the trixel, since the point lies near both vertices), the choices, hence
    /// the index, are sphgeom's. A point that close to a trixel edge takes sphgeom's exact path.
    public func index(of v: UnitVector3d) -> UInt64 { fastIndex(v) ?? exactIndex(v) }

    /// The index by sphgeom's own arithmetic, step for step.
    func exactIndex(_ v: UnitVector3d) -> UInt64 {
        let root = Self.root(of: v)
        var (v0, v1, v2) = Self.rootVertices(root)
        var index = UInt64(root + 8)
        for _ in 0..<level {
            let m01 = v0.midpoint(v1)
            let m20 = v2.midpoint(v0)
            index <<= 2
            if orientation(v, m01, m20) >= 0 {
                (v1, v2) = (m01, m20)
                continue
            }
            let m12 = v1.midpoint(v2)
            let k: UInt64 = orientation(v, m12, m01) >= 0 ? 1 : orientation(v, m20, m12) >= 0 ? 2 : 3
            (v0, v1, v2) = Self.child(k, v0, v1, v2, m01: m01, m20: m20, m12: m12)
            index += k
        }
        return index
    }

    /// The index with approximately normalized midpoints, or nil when a choice is too close to call (see
    /// ``index(of:)-(UnitVector3d)``).
    @inline(__always) private func fastIndex(_ v: UnitVector3d) -> UInt64? {
        let root = Self.root(of: v)
        let (r0, r1, r2) = Self.rootVertices(root)
        var v0 = (r0.x, r0.y, r0.z), v1 = (r1.x, r1.y, r1.z), v2 = (r2.x, r2.y, r2.z)
        let p = (v.x, v.y, v.z)
        @inline(__always) func mid(_ a: (Double, Double, Double), _ b: (Double, Double, Double)) -> (Double, Double, Double) {
            let x = a.0 + b.0, y = a.1 + b.1, z = a.2 + b.2
            let scale = 1.0 / (x * x + y * y + z * z).squareRoot()
            return (x * scale, y * scale, z * scale)
        }
        @inline(__always) func det(_ b: (Double, Double, Double), _ c: (Double, Double, Double)) -> Double {
            p.0 * (b.1 * c.2 - b.2 * c.1) + p.1 * (b.2 * c.0 - b.0 * c.2) + p.2 * (b.0 * c.1 - b.1 * c.0)
        }
        // The margin a determinant must clear: its own rounding (unit vectors, a few 1e-16)
        // plus the trixel's size (≤ 1.6 · 2⁻ᴸ rad, the point within twice that of each
        // vertex) times the vertices' direction error against sphgeom's (< 4 ulp a level, so
        // < 1.1e-14 at level 24), with room to spare.
        var size = 1.0
        var index = UInt64(root + 8)
        for _ in 0..<level {
            size *= 0.5
            let margin = 3e-15 + 2e-13 * size
            let m01 = mid(v0, v1), m20 = mid(v2, v0)
            index <<= 2
            let d0 = det(m01, m20)
            if abs(d0) <= margin { return nil }
            if d0 > 0 {
                (v1, v2) = (m01, m20)
                continue
            }
            let m12 = mid(v1, v2)
            let d1 = det(m12, m01)
            if abs(d1) <= margin { return nil }
            var k: UInt64 = 1
            if d1 < 0 {
                let d2 = det(m20, m12)
                if abs(d2) <= margin { return nil }
                k = d2 > 0 ? 2 : 3
            }
            (v0, v1, v2) = Self.child(k, v0, v1, v2, m01: m01, m20: m20, m12: m12)
            index += k
        }
        return index
    }

    /// The vertices of child `k` (0–3) of the trixel (v0, v1, v2) with edge midpoints m01, m20,
    /// m12: sphgeom's numbering, in one place for every walk down the hierarchy.
    @inline(__always) static func child<V>(_ k: UInt64, _ v0: V, _ v1: V, _ v2: V, m01: V, m20: V, m12: V) -> (V, V, V) {
        switch k {
        case 0: (v0, m01, m20)
        case 1: (v1, m12, m01)
        case 2: (v2, m20, m12)
        default: (m12, m20, m01)
        }
    }

    /// The root triangle (0–7) holding `v`; points on a root edge go where sphgeom puts them.
    static func root(of v: UnitVector3d) -> Int {
        if v.z < 0 {
            if v.y > 0 { return v.x > 0 ? 0 : 1 }
            if v.y == 0 { return v.x >= 0 ? 0 : 2 }
            return v.x < 0 ? 2 : 3
        }
        if v.y > 0 { return v.x > 0 ? 7 : 6 }
        if v.y == 0 { return v.x >= 0 ? 7 : 5 }
        return v.x < 0 ? 5 : 4
    }

    /// The index of the pixel containing `point`.
    public func index(of point: LonLat) -> UInt64 { index(of: UnitVector3d(point)) }

    /// The level of an HTM index, or nil when it names no pixel (below 8, or an odd number of
    /// bits after the leading root bit, or deeper than level 24).
    public static func level(of index: UInt64) -> Int? {
        guard index >= 8 else { return nil }
        let bits = 64 - index.leadingZeroBitCount
        guard bits % 2 == 0 else { return nil }
        let level = (bits - 4) / 2
        return level <= maxLevel ? level : nil
    }

    /// The vertices of pixel `index` at this level, counter-clockwise.
    /// - Throws: ``SkyError`` for an index that is not a pixel of this level.
    public func triangle(_ index: UInt64) throws -> [UnitVector3d] {
        guard Self.level(of: index) == level else { throw SkyError("\(index) is not an HTM index of level \(level)") }
        var (v0, v1, v2) = Self.rootVertices(Int(index >> (2 * UInt64(level))) - 8)
        for shift in stride(from: 2 * (level - 1), through: 0, by: -2) {
            let m01 = v0.midpoint(v1), m20 = v2.midpoint(v0), m12 = v1.midpoint(v2)
            (v0, v1, v2) = Self.child((index >> UInt64(shift)) & 3, v0, v1, v2, m01: m01, m20: m20, m12: m12)
        }
        return [v0, v1, v2]
    }

    /// sphgeom's text form of an index: the root (`S0`–`S3`, `N0`–`N3`) then one digit per
    /// level (`N10203`).
    public static func string(of index: UInt64) throws -> String {
        guard let level = level(of: index) else { throw SkyError("\(index) is not an HTM index") }
        let root = Int(index >> UInt64(2 * level)) - 8
        var text = (root < 4 ? "S" : "N") + String(root % 4)
        for shift in stride(from: 2 * (level - 1), through: 0, by: -2) { text += String((index >> UInt64(shift)) & 3) }
        return text
    }
}

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
    public func index(of v: UnitVector3d) -> UInt64 {
        let root: Int
        if v.z < 0 {
            if v.y > 0 {
                root = v.x > 0 ? 0 : 1
            } else if v.y == 0 {
                root = v.x >= 0 ? 0 : 2
            } else {
                root = v.x < 0 ? 2 : 3
            }
        } else {
            if v.y > 0 {
                root = v.x > 0 ? 7 : 6
            } else if v.y == 0 {
                root = v.x >= 0 ? 7 : 5
            } else {
                root = v.x < 0 ? 5 : 4
            }
        }
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
            if orientation(v, m12, m01) >= 0 {
                (v0, v1, v2) = (v1, m12, m01)
                index += 1
            } else if orientation(v, m20, m12) >= 0 {
                (v0, v1, v2) = (v2, m20, m12)
                index += 2
            } else {
                (v0, v1, v2) = (m12, m20, m01)
                index += 3
            }
        }
        return index
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
            switch (index >> UInt64(shift)) & 3 {
            case 0: (v1, v2) = (m01, m20)
            case 1: (v0, v1, v2) = (v1, m12, m01)
            case 2: (v0, v1, v2) = (v2, m20, m12)
            default: (v0, v1, v2) = (m12, m20, m01)
            }
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

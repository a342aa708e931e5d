import Foundation

/// HEALPix in the nested scheme, at `order` (nside = 2^order): pixel numbers as hpgeom (the
/// HEALPix C++ library's arithmetic) computes them, bit for bit.
public struct HEALPixNested: Sendable, Hashable {
    /// The order, 0–29.
    public let order: Int
    /// 2^order.
    public let nside: Int64

    /// The deepest order a 64-bit pixel number holds.
    public static let maxOrder = 29

    /// The pixelization at `order`.
    /// - Throws: ``SkyError`` for an order outside 0–29.
    public init(order: Int) throws {
        guard (0...Self.maxOrder).contains(order) else { throw SkyError("HEALPix order \(order) is outside 0–\(Self.maxOrder)") }
        self.order = order
        nside = 1 << Int64(order)
    }

    /// The number of pixels, 12·nside².
    public var pixelCount: Int64 { 12 * nside * nside }

    // hpgeom's constants (its C macros, including their evaluation order).
    private static let pi = 3.141592653589793238462643383279502884197
    private static let twoPi = 6.283185307179586476925286766559005768394
    private static let halfPi = 1.570796326794896619231321691639751442099
    private static let inverseHalfPi = 0.6366197723675813430755350534900574

    /// The pixel containing the point at longitude and latitude in degrees.
    /// - Throws: ``SkyError`` for a coordinate that is not finite or a latitude beyond ±90°.
    public func pixel(lonDegrees: Double, latDegrees: Double) throws -> Int64 {
        guard lonDegrees.isFinite, latDegrees.isFinite else {
            throw SkyError("coordinates (\(lonDegrees)°, \(latDegrees)°) are not finite")
        }
        // `x * HPG_D2R` expands to `x * HPG_PI / 180.0`: multiplied, then divided.
        let lon = Self.modulo(lonDegrees * Self.pi / 180.0, Self.twoPi)
        let lat = latDegrees * Self.pi / 180.0
        guard lat >= -Self.halfPi, lat <= Self.halfPi else { throw SkyError("latitude \(latDegrees)° is beyond ±90°") }
        return pixel(theta: -lat + Self.halfPi, phi: lon)
    }

    /// The pixel at colatitude `theta` and longitude `phi`, radians.
    func pixel(theta: Double, phi: Double) -> Int64 {
        if theta < 0.01 || theta > 3.14159 - 0.01 { return pixel(z: cos(theta), phi: phi, sinTheta: nil) }
        return pixel(z: cos(theta), phi: phi, sinTheta: sin(theta))
    }

    /// hpgeom's `loc2pix` for the nested scheme.
    func pixel(z: Double, phi: Double, sinTheta: Double?) -> Int64 {
        let za = abs(z)
        let tt = Self.modulo(phi * Self.inverseHalfPi, 4.0)
        let n = Double(nside)
        if za <= 2.0 / 3.0 {
            let temp1 = n * (0.5 + tt)
            let temp2 = n * (z * 0.75)
            let jp = Int64(temp1 - temp2)
            let jm = Int64(temp1 + temp2)
            let ifp = jp >> Int64(order)
            let ifm = jm >> Int64(order)
            let face = ifp == ifm ? (ifp | 4) : (ifp < ifm ? ifp : ifm + 8)
            let ix = jm & (nside - 1)
            let iy = nside - (jp & (nside - 1)) - 1
            return nested(ix, iy, face)
        }
        var ntt = Int64(tt)
        if ntt >= 4 { ntt = 3 }
        let tp = tt - Double(ntt)
        let tmp: Double =
            if za < 0.99 || sinTheta == nil { n * (3 * (1 - za)).squareRoot() } else { n * sinTheta! / ((1.0 + za) / 3.0).squareRoot() }
        var jp = Int64(tp * tmp)
        var jm = Int64((1.0 - tp) * tmp)
        if jp >= nside { jp = nside - 1 }
        if jm >= nside { jm = nside - 1 }
        return z >= 0 ? nested(nside - jm - 1, nside - jp - 1, ntt) : nested(jp, jm, ntt + 8)
    }

    private func nested(_ ix: Int64, _ iy: Int64, _ face: Int64) -> Int64 {
        (face << (2 * Int64(order))) + Int64(bitPattern: Self.spread(UInt64(ix))) + Int64(bitPattern: Self.spread(UInt64(iy)) << 1)
    }

    /// Interleaves zero bits into the low 32 bits of `v` (bit i goes to bit 2i).
    static func spread(_ v: UInt64) -> UInt64 {
        var x = v & 0xFFFF_FFFF
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x << 2)) & 0x3333_3333_3333_3333
        x = (x | (x << 1)) & 0x5555_5555_5555_5555
        return x
    }

    /// Gathers the even bits of `v` into the low 32 bits (bit 2i goes to bit i; `spread`'s inverse).
    static func compress(_ v: UInt64) -> UInt64 {
        var x = v & 0x5555_5555_5555_5555
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
        return x
    }

    /// hpgeom's `fmodulo`: v1 mod v2 in [0, v2).
    static func modulo(_ v1: Double, _ v2: Double) -> Double {
        if v1 >= 0 { return v1 < v2 ? v1 : fmod(v1, v2) }
        let tmp = fmod(v1, v2) + v2
        return tmp == v2 ? 0 : tmp
    }
}

import Foundation

/// A point on the sky in degrees (ICRS).
public struct SpherePoint: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Right ascension, degrees.
    public var ra: Double
    /// Declination, degrees.
    public var dec: Double

    /// A sky position in degrees.
    public init(ra: Double, dec: Double) {
        self.ra = ra
        self.dec = dec
    }

    public var description: String { String(format: "(%.8f°, %.8f°)", ra, dec) }
}

/// A pixel position with sub-pixel precision, in LSST's 0-based parent convention.
public struct Point2D: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Column.
    public var x: Double
    /// Row.
    public var y: Double

    /// A position at (`x`, `y`).
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }

    public var description: String { String(format: "(%.6f, %.6f)", x, y) }
}

/// SIP distortion polynomials: coefficient `[p][q]` multiplies `u^p v^q`.
public struct SIPPolynomial: Sendable, Hashable, Codable {
    /// Maximum total order.
    public let order: Int
    /// `(order + 1)²` coefficients, row-major by `p` then `q`.
    public private(set) var coefficients: [Double]

    /// A zero polynomial of `order`.
    public init(order: Int) {
        self.order = order
        coefficients = Array(repeating: 0, count: (order + 1) * (order + 1))
    }

    /// The coefficient of `u^p v^q`.
    public subscript(p: Int, q: Int) -> Double {
        get { coefficients[p * (order + 1) + q] }
        set { coefficients[p * (order + 1) + q] = newValue }
    }

    /// Σ coefficient · u^p v^q over p + q ≤ order.
    public func evaluate(_ u: Double, _ v: Double) -> Double {
        var sum = 0.0
        var up = 1.0
        for p in 0...order {
            var vq = 1.0
            for q in 0...(order - p) {
                sum += self[p, q] * up * vq
                vq *= v
            }
            up *= u
        }
        return sum
    }

    /// Partial derivatives (∂/∂u, ∂/∂v) at (u, v).
    func gradient(_ u: Double, _ v: Double) -> (Double, Double) {
        var du = 0.0, dv = 0.0
        for p in 0...order {
            for q in 0...(order - p) {
                let c = self[p, q]
                if c == 0 { continue }
                if p > 0 { du += c * Double(p) * pow(u, Double(p - 1)) * pow(v, Double(q)) }
                if q > 0 { dv += c * Double(q) * pow(u, Double(p)) * pow(v, Double(q - 1)) }
            }
        }
        return (du, dv)
    }
}

/// The zenithal projections a ``Wcs`` maps the tangent plane with (FITS WCS paper II names).
public enum WcsProjection: String, Sendable, Hashable, Codable, CaseIterable {
    /// Gnomonic, `TAN`: great circles are straight lines; radius tan θ.
    case gnomonic = "TAN"
    /// Stereographic, `STG`: conformal; radius 2 tan(θ/2). Skymaps with large tracts use it.
    case stereographic = "STG"
}

/// A celestial WCS: FITS gnomonic (TAN) projection with optional SIP distortion (TAN-SIP), or
/// stereographic (STG) as skymap tracts use, in LSST's pixel convention — 0-based, parent coordinates: pixel (0, 0) of an image whose
/// `xy0` is (x0, y0) is parent position (x0, y0), and FITS pixel (1, 1) of that image.
///
/// `pixelToSky` is exact (forward SIP); `skyToPixel` starts from the inverse polynomials (AP,
/// BP) when present and refines with Newton steps on the forward polynomials, so the two are
/// inverse to 1e-9 pixel whether or not AP/BP exist.
public struct Wcs: Sendable, Hashable, Codable {
    /// Reference pixel, 0-based parent coordinates (FITS CRPIX − 1 + xy0).
    public var crpix: Point2D
    /// Sky position of the reference pixel.
    public var crval: SpherePoint
    /// CD matrix, degrees per pixel: [[CD1_1, CD1_2], [CD2_1, CD2_2]].
    public var cd: [[Double]]
    /// Forward SIP polynomials (A, B), if the WCS is TAN-SIP.
    public var sipA: SIPPolynomial?
    /// Forward SIP polynomial B.
    public var sipB: SIPPolynomial?
    /// Inverse SIP polynomials (AP, BP), if given.
    public var sipAP: SIPPolynomial?
    /// Inverse SIP polynomial BP.
    public var sipBP: SIPPolynomial?
    /// The projection of the intermediate world coordinates; TAN unless stated.
    public var projection: WcsProjection

    /// A TAN (or, with polynomials, TAN-SIP) WCS, or one of another zenithal `projection`.
    public init(
        crpix: Point2D, crval: SpherePoint, cd: [[Double]],
        sipA: SIPPolynomial? = nil, sipB: SIPPolynomial? = nil,
        sipAP: SIPPolynomial? = nil, sipBP: SIPPolynomial? = nil,
        projection: WcsProjection = .gnomonic
    ) {
        self.crpix = crpix
        self.crval = crval
        self.cd = cd
        self.sipA = sipA
        self.sipB = sipB
        self.sipAP = sipAP
        self.sipBP = sipBP
        self.projection = projection
    }

    /// The CD matrix afw's `makeCdMatrix` builds: `scale` degrees per pixel, +y at position
    /// angle `orientation` degrees (north through east); +x points west (RA decreasing with x,
    /// the sky as seen from inside) unless `flipX`.
    public static func cdMatrix(scaleDegrees scale: Double, orientationDegrees orientation: Double = 0, flipX: Bool = false) -> [[Double]] {
        let angle = orientation * .pi / 180
        let xSign = flipX ? 1.0 : -1.0
        return [[cos(angle) * scale * xSign, sin(angle) * scale], [-sin(angle) * scale * xSign, cos(angle) * scale]]
    }

    private enum CodingKeys: String, CodingKey {
        case crpix, crval, cd, sipA, sipB, sipAP, sipBP, projection
    }

    /// Decodes a WCS; one written before projections were recorded is TAN.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        crpix = try container.decode(Point2D.self, forKey: .crpix)
        crval = try container.decode(SpherePoint.self, forKey: .crval)
        cd = try container.decode([[Double]].self, forKey: .cd)
        sipA = try container.decodeIfPresent(SIPPolynomial.self, forKey: .sipA)
        sipB = try container.decodeIfPresent(SIPPolynomial.self, forKey: .sipB)
        sipAP = try container.decodeIfPresent(SIPPolynomial.self, forKey: .sipAP)
        sipBP = try container.decodeIfPresent(SIPPolynomial.self, forKey: .sipBP)
        projection = try container.decodeIfPresent(WcsProjection.self, forKey: .projection) ?? .gnomonic
    }

    /// True when SIP distortion is present.
    public var hasDistortion: Bool { sipA != nil && sipB != nil }

    /// Pixel scale at the reference pixel, arcseconds per pixel.
    public var pixelScale: Double {
        sqrt(abs(cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0])) * 3600
    }

    /// The same WCS for an image whose pixels moved by (`dx`, `dy`) (parent coordinates change,
    /// sky does not): used when re-basing `xy0`.
    public func shifted(dx: Double, dy: Double) -> Wcs {
        var copy = self
        copy.crpix = Point2D(crpix.x + dx, crpix.y + dy)
        return copy
    }

    /// The sky position of a 0-based parent pixel position.
    public func pixelToSky(_ pixel: Point2D) -> SpherePoint {
        let u = pixel.x - crpix.x, v = pixel.y - crpix.y
        var uu = u, vv = v
        if let sipA, let sipB {
            uu += sipA.evaluate(u, v)
            vv += sipB.evaluate(u, v)
        }
        let x = cd[0][0] * uu + cd[0][1] * vv
        let y = cd[1][0] * uu + cd[1][1] * vv
        // FITS's default LONPOLE is 0° when the reference point is the north pole itself (180°
        // elsewhere): there the native frame turns half a circle, which is (x, y) → (−x, −y).
        let turn = crval.dec >= 90 ? -1.0 : 1.0
        switch projection {
        case .gnomonic: return Self.deproject(xi: turn * x * .pi / 180, eta: turn * y * .pi / 180, crval: crval)
        case .stereographic: return Self.deprojectStereographic(x: turn * x * .pi / 180, y: turn * y * .pi / 180, crval: crval)
        }
    }

    /// The 0-based parent pixel position of a sky position.
    public func skyToPixel(_ sky: SpherePoint) -> Point2D {
        let (xi, eta) = projection == .gnomonic ? Self.project(sky, crval: crval) : Self.projectStereographic(sky, crval: crval)
        let turn = crval.dec >= 90 ? -1.0 : 1.0  // FITS's LONPOLE at the north pole, as in pixelToSky
        let x = turn * xi * 180 / .pi, y = turn * eta * 180 / .pi
        let det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0]
        let bigU = (cd[1][1] * x - cd[0][1] * y) / det
        let bigV = (-cd[1][0] * x + cd[0][0] * y) / det
        guard let sipA, let sipB else { return Point2D(crpix.x + bigU, crpix.y + bigV) }
        var u = bigU, v = bigV
        if let sipAP, let sipBP {
            u = bigU + sipAP.evaluate(bigU, bigV)
            v = bigV + sipBP.evaluate(bigU, bigV)
        }
        // Newton on F(u, v) = (u + A(u, v) − U, v + B(u, v) − V).
        for _ in 0..<50 {
            let fu = u + sipA.evaluate(u, v) - bigU
            let fv = v + sipB.evaluate(u, v) - bigV
            if abs(fu) < 1e-12 && abs(fv) < 1e-12 { break }
            let (au, av) = sipA.gradient(u, v)
            let (bu, bv) = sipB.gradient(u, v)
            let j11 = 1 + au, j12 = av, j21 = bu, j22 = 1 + bv
            let jdet = j11 * j22 - j12 * j21
            u -= (j22 * fu - j12 * fv) / jdet
            v -= (-j21 * fu + j11 * fv) / jdet
        }
        return Point2D(crpix.x + u, crpix.y + v)
    }

    /// Gnomonic deprojection (FITS TAN with LONPOLE = 180°).
    static func deproject(xi: Double, eta: Double, crval: SpherePoint) -> SpherePoint {
        let ra0 = crval.ra * .pi / 180, dec0 = crval.dec * .pi / 180
        let denominator = cos(dec0) - eta * sin(dec0)
        var ra = ra0 + atan2(xi, denominator)
        let dec = atan2(sin(dec0) + eta * cos(dec0), (xi * xi + denominator * denominator).squareRoot())
        ra = ra.truncatingRemainder(dividingBy: 2 * .pi)
        if ra < 0 { ra += 2 * .pi }
        return SpherePoint(ra: ra * 180 / .pi, dec: dec * 180 / .pi)
    }

    /// Gnomonic projection: standard coordinates (radians) of `sky` about `crval`.
    static func project(_ sky: SpherePoint, crval: SpherePoint) -> (Double, Double) {
        let ra = sky.ra * .pi / 180, dec = sky.dec * .pi / 180
        let ra0 = crval.ra * .pi / 180, dec0 = crval.dec * .pi / 180
        let cosc = sin(dec) * sin(dec0) + cos(dec) * cos(dec0) * cos(ra - ra0)
        let xi = cos(dec) * sin(ra - ra0) / cosc
        let eta = (sin(dec) * cos(dec0) - cos(dec) * sin(dec0) * cos(ra - ra0)) / cosc
        return (xi, eta)
    }

    /// Stereographic projection about `crval` (FITS STG, LONPOLE = 180°): the gnomonic
    /// direction, scaled to radius 2 tan(θ/2) where θ is the distance from `crval`.
    static func projectStereographic(_ sky: SpherePoint, crval: SpherePoint) -> (Double, Double) {
        let ra = sky.ra * .pi / 180, dec = sky.dec * .pi / 180
        let ra0 = crval.ra * .pi / 180, dec0 = crval.dec * .pi / 180
        let cosc = sin(dec) * sin(dec0) + cos(dec) * cos(dec0) * cos(ra - ra0)
        let k = 2 / (1 + cosc)
        return (k * cos(dec) * sin(ra - ra0), k * (sin(dec) * cos(dec0) - cos(dec) * sin(dec0) * cos(ra - ra0)))
    }

    /// Stereographic deprojection: the point at distance 2 atan(ρ/2) from `crval` in the
    /// direction of (x, y).
    static func deprojectStereographic(x: Double, y: Double, crval: SpherePoint) -> SpherePoint {
        let ra0 = crval.ra * .pi / 180, dec0 = crval.dec * .pi / 180
        let rho = (x * x + y * y).squareRoot()
        guard rho > 0 else { return crval }
        let c = 2 * atan(rho / 2)
        let dec = asin(max(-1, min(1, cos(c) * sin(dec0) + y * sin(c) * cos(dec0) / rho)))
        var ra = ra0 + atan2(x * sin(c), rho * cos(dec0) * cos(c) - y * sin(dec0) * sin(c))
        ra = ra.truncatingRemainder(dividingBy: 2 * .pi)
        if ra < 0 { ra += 2 * .pi }
        return SpherePoint(ra: ra * 180 / .pi, dec: dec * 180 / .pi)
    }
}

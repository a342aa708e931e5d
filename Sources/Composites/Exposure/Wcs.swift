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

/// A celestial WCS: FITS gnomonic (TAN) projection with optional SIP distortion (TAN-SIP),
/// in LSST's pixel convention — 0-based, parent coordinates: pixel (0, 0) of an image whose
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

    /// A TAN (or, with polynomials, TAN-SIP) WCS.
    public init(
        crpix: Point2D, crval: SpherePoint, cd: [[Double]],
        sipA: SIPPolynomial? = nil, sipB: SIPPolynomial? = nil,
        sipAP: SIPPolynomial? = nil, sipBP: SIPPolynomial? = nil
    ) {
        self.crpix = crpix
        self.crval = crval
        self.cd = cd
        self.sipA = sipA
        self.sipB = sipB
        self.sipAP = sipAP
        self.sipBP = sipBP
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
        return Self.deproject(xi: x * .pi / 180, eta: y * .pi / 180, crval: crval)
    }

    /// The 0-based parent pixel position of a sky position.
    public func skyToPixel(_ sky: SpherePoint) -> Point2D {
        let (xi, eta) = Self.project(sky, crval: crval)
        let x = xi * 180 / .pi, y = eta * 180 / .pi
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
}

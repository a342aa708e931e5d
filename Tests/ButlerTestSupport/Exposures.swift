public import Composites
import Foundation

/// A small calexp-like exposure with every component.
public func makeCalexp(width: Int = 60, height: Int = 40, xy0: Point2I = Point2I(10, 20)) throws -> ExposureF {
    var masked = MaskedImage<Float>(bbox: Box2I(min: xy0, extent: Extent2I(width, height)))
    for y in 0..<height {
        for x in 0..<width {
            masked.image[x, y] = Float(x * 3 + y) * 0.5
            masked.variance[x, y] = 4
        }
    }
    try masked.mask.set("SAT", x: 3, y: 4)
    return Exposure(
        maskedImage: masked,
        wcs: Wcs(crpix: Point2D(30, 40), crval: SpherePoint(ra: 320.7, dec: -0.3), cd: [[1.6e-6, 4.4e-5], [4.4e-5, 1.5e-6]]),
        psf: .gaussian(sigma: 2, width: 15, height: 15), photoCalib: PhotoCalib(calibrationMean: 2, calibrationErr: 0.01),
        visitInfo: VisitInfo(exposureTime: 30, date: "2026-11-22T03:00:00.000", instrument: "HSC", id: 1))
}

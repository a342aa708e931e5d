public import Composites
import Foundation
public import Sky

extension Wcs {
    /// The sky region an image's pixels cover: the convex hull of the pixel-edge corners of
    /// `bbox` (and, for a distorted WCS, the midpoints of its edges) mapped to the sky. A TAN
    /// projection maps straight pixel edges to great circles, so without distortion the polygon
    /// is exact.
    /// - Throws: ``SkyError`` for an empty box or a WCS that maps its corners to points no
    ///   convex polygon holds.
    public func skyRegion(covering bbox: Box2I) throws -> Region {
        guard !bbox.isEmpty else { throw SkyError("an empty pixel box \(bbox) covers no sky") }
        let x0 = Double(bbox.min.x) - 0.5, x1 = Double(bbox.max.x) + 0.5
        let y0 = Double(bbox.min.y) - 0.5, y1 = Double(bbox.max.y) + 0.5
        var pixels = [Point2D(x0, y0), Point2D(x1, y0), Point2D(x1, y1), Point2D(x0, y1)]
        if hasDistortion {
            let xm = (x0 + x1) / 2, ym = (y0 + y1) / 2
            pixels += [Point2D(xm, y0), Point2D(x1, ym), Point2D(xm, y1), Point2D(x0, ym)]
        }
        let points = try pixels.map { pixel -> UnitVector3d in
            let sky = pixelToSky(pixel)
            return UnitVector3d(try LonLat(lonDegrees: sky.ra, latDegrees: sky.dec))
        }
        return .polygon(try ConvexPolygon(hullOf: points))
    }
}

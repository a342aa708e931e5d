public import Composites
import Foundation
public import Sky

/// A patch: one rectangle of a tract's pixel grid (lsst.skymap's `PatchInfo`).
///
/// Inner boxes tile the tract exactly; the outer box adds `patchBorder` pixels on every side,
/// clipped to the tract, so neighbouring patches overlap.
public struct PatchInfo: Sendable, Hashable {
    /// Column of the patch in its tract (0 at the tract's minimum x).
    public let x: Int
    /// Row of the patch in its tract.
    public let y: Int
    /// The patch's ID in the registry: `nx · y + x`.
    public let sequentialIndex: Int
    /// The inner pixel box, in the tract's pixel grid.
    public let innerBBox: Box2I
    /// The outer pixel box (inner grown by the border, clipped to the tract).
    public let outerBBox: Box2I
    /// The tract's WCS (patches share it).
    public let wcs: Wcs

    /// The sky polygon of the inner box (corners of its pixel edges).
    public var innerRegion: Region { get throws { try wcs.skyRegion(covering: innerBBox) } }
    /// The sky polygon of the outer box: what the registry's `patch.region` holds.
    public var outerRegion: Region { get throws { try wcs.skyRegion(covering: outerBBox) } }
}

/// A tract: one projection of the sky with its own WCS, cut into patches (lsst.skymap's
/// `ExplicitTractInfo`, the kind both rings and discrete skymaps make).
public struct TractInfo: Sendable, Hashable {
    /// The tract ID.
    public let id: Int
    /// The centre, also the WCS reference point.
    public let center: LonLat
    /// The tract's WCS: pixel (0, 0) is the centre of the lower-left pixel of `bbox`.
    public let wcs: Wcs
    /// The pixel box, grown from the inner region plus overlap to whole patches.
    public let bbox: Box2I
    /// Patches along x.
    public let patchCountX: Int
    /// Patches along y.
    public let patchCountY: Int
    /// The inner region: the declination/RA box of a rings tract, the polygon of the whole
    /// tract for a discrete one.
    public let innerRegion: Region
    let patchInner: Extent2I
    let patchBorder: Int

    /// Builds a tract of half-size `radius` (radians) around `center`, with `overlap` (radians)
    /// added on every side, grown to whole patches, as lsst.skymap does.
    init(
        id: Int, center: LonLat, radius: Double, overlap: Double, configuration: SkyMapConfiguration, innerBox: Box?
    ) throws {
        self.id = id
        self.center = center
        let scale = configuration.pixelScale / 3600
        var wcs = Wcs(
            crpix: Point2D(0, 0), crval: SpherePoint(ra: center.lonDegrees, dec: center.latDegrees),
            cd: Wcs.cdMatrix(scaleDegrees: scale, orientationDegrees: configuration.rotation), projection: configuration.projection)
        // The minimum box: the four points `radius + overlap` east, north, west and south of the
        // centre, in the WCS with the reference pixel at 0.
        var bounds = PixelBounds()
        for quarter in 0..<4 {
            let corner = SkyMapGeometry.offset(center, bearing: Double(quarter) * .pi / 2, distance: radius + overlap)
            let pixel = wcs.skyToPixel(SpherePoint(ra: corner.lonDegrees, dec: corner.latDegrees))
            guard pixel.x.isFinite, pixel.y.isFinite else {
                throw SkyError(
                    "tract \(id): the tract edge at \(corner) does not project (radius + overlap too large for \(configuration.projection.rawValue))"
                )
            }
            bounds.include(pixel)
        }
        let touched = bounds.touchedPixels
        var origin = (x: touched.x0, y: touched.y0)
        var size = (x: touched.x1 + 1 - touched.x0, y: touched.y1 + 1 - touched.y0)
        let inner = configuration.patchInnerDimensions
        // Grown to whole patches about the same centre.
        let countX = (size.x + inner[0] - 1) / inner[0], countY = (size.y + inner[1] - 1) / inner[1]
        let growX = inner[0] * countX - size.x, growY = inner[1] * countY - size.y
        if growX > 0 {
            size.x = inner[0] * countX
            origin.x -= growX / 2
        }
        if growY > 0 {
            size.y = inner[1] * countY
            origin.y -= growY / 2
        }
        // The lower-left pixel becomes (0, 0).
        wcs = wcs.shifted(dx: Double(-origin.x), dy: Double(-origin.y))
        self.wcs = wcs
        bbox = Box2I(min: Point2I(0, 0), extent: Extent2I(size.x, size.y))
        patchCountX = countX
        patchCountY = countY
        patchInner = Extent2I(inner[0], inner[1])
        patchBorder = configuration.patchBorder
        if let innerBox {
            innerRegion = .box(innerBox)
        } else {
            // The whole tract, its box shrunk by 0.001 pixel so the vertices are inside it.
            let x0 = -0.499, y0 = -0.499, x1 = Double(size.x) - 0.501, y1 = Double(size.y) - 0.501
            let corners = [Point2D(x0, y0), Point2D(x1, y0), Point2D(x1, y1), Point2D(x0, y1)].map(wcs.pixelToSky)
            innerRegion = .polygon(
                try ConvexPolygon(hullOf: corners.map { UnitVector3d(try LonLat(lonDegrees: $0.ra, latDegrees: $0.dec)) }))
        }
    }

    /// Number of patches.
    public var patchCount: Int { patchCountX * patchCountY }

    /// The sky polygon of the tract's pixel box: what the registry's `tract.region` holds.
    public var outerRegion: Region { get throws { try wcs.skyRegion(covering: bbox) } }

    /// The patch in column `x`, row `y`.
    /// - Throws: ``SkyError`` for an index outside the tract.
    public func patch(x: Int, y: Int) throws -> PatchInfo {
        guard (0..<patchCountX).contains(x), (0..<patchCountY).contains(y) else {
            throw SkyError("patch (\(x), \(y)) is not in tract \(id), which has \(patchCountX) × \(patchCountY) patches")
        }
        let inner = Box2I(min: Point2I(x * patchInner.width, y * patchInner.height), extent: patchInner)
        let outer = Box2I(
            x0: Swift.max(bbox.min.x, inner.min.x - patchBorder), y0: Swift.max(bbox.min.y, inner.min.y - patchBorder),
            x1: Swift.min(bbox.max.x, inner.max.x + patchBorder), y1: Swift.min(bbox.max.y, inner.max.y + patchBorder))
        return PatchInfo(x: x, y: y, sequentialIndex: patchCountX * y + x, innerBBox: inner, outerBBox: outer, wcs: wcs)
    }

    /// The patch with sequential index `index` (the registry's patch ID).
    /// - Throws: ``SkyError`` for an index outside the tract.
    public func patch(_ index: Int) throws -> PatchInfo {
        guard (0..<patchCount).contains(index) else {
            throw SkyError("patch \(index) is not in tract \(id), which has \(patchCount) patches (0–\(patchCount - 1))")
        }
        return try patch(x: index % patchCountX, y: index / patchCountX)
    }

    /// Every patch, row by row (sequential index order).
    public var patches: [PatchInfo] {
        (0..<patchCount).map { index in
            // In range by construction.
            try! patch(x: index % patchCountX, y: index / patchCountX)
        }
    }

    /// A point's position in the tract's pixels, or nil when it does not project usefully (the
    /// far side of the sky from the tract, which neither projection maps, or beyond any box).
    func projected(_ point: LonLat) -> Point2D? {
        guard UnitVector3d(point).dot(UnitVector3d(center)) > 0 else { return nil }
        let pixel = wcs.skyToPixel(SpherePoint(ra: point.lonDegrees, dec: point.latDegrees))
        guard pixel.x.isFinite, pixel.y.isFinite, abs(pixel.x) < 1e9, abs(pixel.y) < 1e9 else { return nil }
        return pixel
    }

    /// The nearest pixel of a point (lsst.geom's `Point2I(Point2D)`), or nil when the point does
    /// not project.
    func pixel(of point: LonLat) -> Point2I? {
        guard let pixel = projected(point) else { return nil }
        return Point2I(Int((pixel.x + 0.5).rounded(.down)), Int((pixel.y + 0.5).rounded(.down)))
    }

    /// True when the point falls on a pixel of the tract's box (lsst.skymap's `contains`).
    public func contains(_ point: LonLat) -> Bool {
        guard let pixel = pixel(of: point) else { return false }
        return bbox.contains(pixel)
    }

    /// The patch whose inner box holds the point.
    /// - Throws: ``SkyError`` when the point is not on the tract.
    public func findPatch(_ point: LonLat) throws -> PatchInfo {
        guard let pixel = pixel(of: point), bbox.contains(pixel) else { throw SkyError("\(point) is not in tract \(id)") }
        return try patch(x: pixel.x / patchInner.width, y: pixel.y / patchInner.height)
    }

    /// The patches whose outer boxes may hold any of the points (lsst.skymap's
    /// `findPatchList`): the pixel box of the points, grown by the border, clipped to the tract.
    public func findPatchList(_ points: [LonLat]) -> [PatchInfo] {
        // Points that do not project are skipped, as lsst.skymap skips those its WCS refuses.
        var bounds = PixelBounds()
        for point in points { if let pixel = projected(point) { bounds.include(pixel) } }
        guard !bounds.isEmpty else { return [] }
        let touched = bounds.touchedPixels
        let x0 = Swift.max(bbox.min.x, touched.x0 - patchBorder), y0 = Swift.max(bbox.min.y, touched.y0 - patchBorder)
        let x1 = Swift.min(bbox.max.x, touched.x1 + patchBorder), y1 = Swift.min(bbox.max.y, touched.y1 + patchBorder)
        guard x0 <= x1, y0 <= y1 else { return [] }
        var result: [PatchInfo] = []
        for x in (x0 / patchInner.width)...(x1 / patchInner.width) {
            for y in (y0 / patchInner.height)...(y1 / patchInner.height) {
                // Clipped to the tract, so in range.
                result.append(try! patch(x: x, y: y))
            }
        }
        return result
    }

    /// The patches whose outer regions overlap `region` (exactly, by the patch polygons).
    public func patches(overlapping region: Region) throws -> [PatchInfo] {
        guard try outerRegion.overlaps(region) != false else { return [] }
        return try patches.filter { try $0.outerRegion.overlaps(region) != false }
    }
}

/// The extent of pixel positions, turned into the pixels they touch as lsst.geom's
/// `Box2I(Box2D)` with `EXPAND` does.
struct PixelBounds {
    var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity

    var isEmpty: Bool { minX > maxX }

    mutating func include(_ pixel: Point2D) {
        minX = min(minX, pixel.x)
        maxX = max(maxX, pixel.x)
        minY = min(minY, pixel.y)
        maxY = max(maxY, pixel.y)
    }

    /// The first and last pixel each way whose ±0.5 square the extent reaches.
    var touchedPixels: (x0: Int, y0: Int, x1: Int, y1: Int) {
        (Int((minX + 0.5).rounded(.down)), Int((minY + 0.5).rounded(.down)), Int((maxX - 0.5).rounded(.up)), Int((maxY - 0.5).rounded(.up)))
    }
}

/// Small spherical helpers the skymaps share.
enum SkyMapGeometry {
    /// The point `distance` radians from `point` along the great circle leaving it at `bearing`
    /// (radians from east towards north), as lsst.geom's `SpherePoint.offset`.
    static func offset(_ point: LonLat, bearing: Double, distance: Double) -> LonLat {
        let p = UnitVector3d(point)
        let east = (x: -sin(point.lon), y: cos(point.lon), z: 0.0)
        let north = (x: -sin(point.lat) * cos(point.lon), y: -sin(point.lat) * sin(point.lon), z: cos(point.lat))
        let d = (
            x: cos(bearing) * east.x + sin(bearing) * north.x, y: cos(bearing) * east.y + sin(bearing) * north.y, z: sin(bearing) * north.z
        )
        let x = cos(distance) * p.x + sin(distance) * d.x
        let y = cos(distance) * p.y + sin(distance) * d.y
        let z = cos(distance) * p.z + sin(distance) * d.z
        var lon = atan2(y, x)
        if lon < 0 { lon += 2 * .pi }
        let lat = atan2(z, (x * x + y * y).squareRoot())
        // Finite by construction.
        return try! LonLat(lonRadians: lon, latRadians: lat)
    }
}

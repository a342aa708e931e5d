import Butler
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps

/// The coadd side of the demo's night: a skymap over the field, every calexp warped onto the
/// patches the spatial join says it overlaps and averaged per band into `deepCoadd` exposures
/// (stored disassembled, with the tract's WCS, a PSF and a photoCalib), a source catalog per
/// coadd whose IDs come from the tract/patch/band packer, and a lazy coadd cutout.
extension DemoNight {
    static let skymapName = "demo_field"

    /// One discrete tract over the mosaic and around it: 0.2″ pixels, 200² patches with
    /// 10-pixel borders, so each visit covers some of the patches.
    var skymapConfiguration: SkyMapConfiguration {
        .discrete(
            tracts: [(150.008, 2.007, 0.03)], projection: .gnomonic, pixelScale: 0.2, tractOverlap: 0.002,
            patchInnerDimensions: [200, 200],
            patchBorder: 10)
    }

    func band(visit: Int) -> String { visit % 2 == 0 ? "r" : "g" }

    func runCoadds(timed: (String, () async throws -> String) async throws -> Void) async throws {
        let skymap = try SkyMap(skymapConfiguration)
        let tract = try skymap.tract(0)
        try await timed("register skymap") {
            let result = try await butler.registerSkyMap(Self.skymapName, skymap)
            return
                "\(Self.skymapName): \(result.tracts) tract of \(result.patches) patches (\(tract.patchCountX) × \(tract.patchCountY)), regions in the registry"
        }
        try await timed("patches per visit") {
            // Visits that touch the same patches are listed together.
            var visitsByPatches: [[Int64]: [Int]] = [:]
            for visit in 1...visits {
                let patches = try await butler.queryDataIds(
                    ["tract", "patch"], where: "instrument = '\(instrument)' AND visit = \(visit) AND skymap = '\(Self.skymapName)'")
                visitsByPatches[patches.compactMap { $0["patch"]?.intValue }.sorted(), default: []].append(visit)
            }
            let lines = visitsByPatches.sorted { $0.value[0] < $1.value[0] }.map { patches, visits in
                "visits \(visits.map(String.init).joined(separator: ",")) → \(patches.count) of \(tract.patchCount) patches (\(patches.map(String.init).joined(separator: " ")))"
            }
            return "the spatial join: " + lines.joined(separator: "; ")
        }
        let packer = try await butler.skyMapPacker(skymap: Self.skymapName, bandCount: nil)
        var coadds = 0
        try await timed("coadd") {
            try await butler.registerDatasetType("deepCoadd", dimensions: ["skymap", "tract", "patch", "band"], storageClass: "ExposureF")
            try await butler.registerDatasetType(
                "deepCoadd_src", dimensions: ["skymap", "tract", "patch", "band"], storageClass: "SourceCatalog")
            var inputs = 0
            // Each calexp is read once, whichever patches it lands on.
            var calexps: [DataId: ExposureF] = [:]
            for patch in tract.patches {
                for band in ["g", "r"] {
                    // The calexps over this patch in this band: the spatial join, patch → detectors.
                    let overlapping = try await butler.queryDataIds(
                        ["visit", "detector"],
                        where:
                            "instrument = '\(instrument)' AND band = '\(band)' AND skymap = '\(Self.skymapName)' AND tract = 0 AND patch = \(patch.sequentialIndex)"
                    )
                    guard !overlapping.isEmpty else { continue }
                    var exposures: [ExposureF] = []
                    for dataId in overlapping {
                        if calexps[dataId.values] == nil {
                            calexps[dataId.values] = try await butler.get(
                                "calexp", dataId: dataId.values, collections: ["\(instrument)/night"], as: ExposureF.self)
                        }
                        exposures.append(calexps[dataId.values]!)
                    }
                    let coadd = try warpAndAverage(exposures, onto: patch)
                    let dataId: DataId = [
                        "skymap": .string(Self.skymapName), "tract": 0, "patch": .int(Int64(patch.sequentialIndex)), "band": .string(band),
                    ]
                    try await butler.put(coadd, "deepCoadd", dataId: dataId, run: "\(instrument)/coadds")
                    let catalog = try measure(coadd, patch: patch, packed: try packer.pack(dataId))
                    try await butler.put(catalog, "deepCoadd_src", dataId: dataId, run: "\(instrument)/coadds")
                    inputs += exposures.count
                    coadds += 1
                }
            }
            return
                "\(coadds) deepCoadds (patch × band, nearest-neighbour warps of \(inputs) calexps found through the spatial join) and their source catalogs, IDs from the tract_patch_band packer (\(packer.maxBits) bits) << 16"
        }
        try await timed("coadd cutout") {
            let star = Self.stars.max { $0.flux < $1.flux }!
            let point = try LonLat(lonDegrees: star.ra, latDegrees: star.dec)
            let patch = try tract.findPatch(point)
            let centre = tract.wcs.skyToPixel(SpherePoint(ra: star.ra, dec: star.dec))
            let box = Box2I(x0: Int(centre.x) - 10, y0: Int(centre.y) - 10, x1: Int(centre.x) + 10, y1: Int(centre.y) + 10)
            let band = "r"
            let cutout = try await butler.get(
                "deepCoadd",
                dataId: [
                    "skymap": .string(Self.skymapName), "tract": 0, "patch": .int(Int64(patch.sequentialIndex)), "band": .string(band),
                ],
                collections: ["\(instrument)/coadds"], parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
            let peak = cutout.image.pixels.max() ?? 0
            guard cutout.bbox == box, peak > 1000 else {
                throw CommandFailure("the deepCoadd cutout \(cutout.bbox) around the brightest star peaks at \(peak)")
            }
            let sources = try await butler.get(
                "deepCoadd_src",
                dataId: [
                    "skymap": .string(Self.skymapName), "tract": 0, "patch": .int(Int64(patch.sequentialIndex)), "band": .string(band),
                ],
                collections: ["\(instrument)/coadds"], as: SourceCatalog.self)
            let firstId = Int64(sources.columns["id"]?.first ?? 0)
            let unpacked = try packer.unpack(firstId >> 16)
            return
                "21×21 cutout of patch \(patch.sequentialIndex) (band r) around the brightest star, peak \(Int(peak)); its catalog's first source ID \(firstId) unpacks to tract \(unpacked["tract"]!), patch \(unpacked["patch"]!), band \(unpacked["band"]!) + row \(firstId & 0xFFFF)"
        }
    }

    /// Every exposure resampled (nearest neighbour) onto the patch's outer box in the tract's
    /// pixel grid and averaged; pixels no exposure covers are NO_DATA.
    func warpAndAverage(_ exposures: [ExposureF], onto patch: PatchInfo) throws -> ExposureF {
        let box = patch.outerBBox
        var sum = Image<Double>(bbox: box), weight = Image<Double>(bbox: box), variance = Image<Float>(bbox: box)
        for exposure in exposures {
            guard let wcs = exposure.wcs else { continue }
            // Only the patch pixels inside the exposure's footprint: its corners in patch pixels.
            let corners =
                [(-0.5, -0.5), (Double(exposure.bbox.width) - 0.5, -0.5), (-0.5, Double(exposure.bbox.height) - 0.5)]
                + [(Double(exposure.bbox.width) - 0.5, Double(exposure.bbox.height) - 0.5)]
            let inPatch = corners.map {
                patch.wcs.skyToPixel(wcs.pixelToSky(Point2D($0.0 + Double(exposure.bbox.min.x), $0.1 + Double(exposure.bbox.min.y))))
            }
            let x0 = max(box.min.x, Int(inPatch.map(\.x).min()!.rounded(.down))),
                x1 = min(box.max.x, Int(inPatch.map(\.x).max()!.rounded(.up)))
            let y0 = max(box.min.y, Int(inPatch.map(\.y).min()!.rounded(.down))),
                y1 = min(box.max.y, Int(inPatch.map(\.y).max()!.rounded(.up)))
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let source = wcs.skyToPixel(patch.wcs.pixelToSky(Point2D(Double(x), Double(y))))
                    let p = Point2I(Int((source.x + 0.5).rounded(.down)), Int((source.y + 0.5).rounded(.down)))
                    guard exposure.bbox.contains(p) else { continue }
                    let target = Point2I(x, y)
                    sum[parent: target] += Double(exposure.image[parent: p])
                    weight[parent: target] += 1
                    variance[parent: target] += exposure.variance[parent: p]
                }
            }
        }
        var image = Image<Float>(bbox: box)
        var mask = Mask(bbox: box)
        for index in image.pixels.indices {
            let n = weight.pixels[index]
            if n > 0 {
                image.pixels[index] = Float(sum.pixels[index] / n)
                variance.pixels[index] /= Float(n * n)
            } else {
                let x = index % box.width, y = index / box.width
                try mask.set("NO_DATA", x: x, y: y)
            }
        }
        let sigma = exposures.compactMap { $0.psf?.sigma }.reduce(0, +) / Double(max(1, exposures.count))
        var metadata = Metadata()
        metadata.set("NINPUTS", .int(Int64(exposures.count)), comment: "calexps averaged")
        return ExposureF(
            maskedImage: try MaskedImage(image: image, mask: mask, variance: variance), wcs: patch.wcs,
            psf: .gaussian(sigma: sigma, width: 21, height: 21), photoCalib: PhotoCalib(calibrationMean: 0.52, calibrationErr: 0.004),
            metadata: metadata)
    }

    /// Aperture fluxes of the stars inside the patch's inner box; source IDs are the packed
    /// tract/patch/band shifted left 16 bits plus the row.
    func measure(_ coadd: ExposureF, patch: PatchInfo, packed: Int64) throws -> SourceCatalog {
        var ids: [Double] = [], ras: [Double] = [], decs: [Double] = [], fluxes: [Double] = []
        // Pixels of the 5-pixel aperture.
        var area = 0.0
        for dx in -5...5 { for dy in -5...5 where dx * dx + dy * dy <= 25 { area += 1 } }
        for star in Self.stars {
            let centre = patch.wcs.skyToPixel(SpherePoint(ra: star.ra, dec: star.dec))
            let pixel = Point2I(Int((centre.x + 0.5).rounded(.down)), Int((centre.y + 0.5).rounded(.down)))
            let aperture = Box2I(x0: pixel.x - 6, y0: pixel.y - 6, x1: pixel.x + 6, y1: pixel.y + 6)
            guard patch.innerBBox.contains(pixel), coadd.bbox.contains(aperture) else { continue }
            var total = 0.0, ring = 0.0, ringCount = 0.0
            for y in aperture.min.y...aperture.max.y {
                for x in aperture.min.x...aperture.max.x {
                    let value = Double(coadd.image[parent: Point2I(x, y)])
                    let r2 = Double((x - pixel.x) * (x - pixel.x) + (y - pixel.y) * (y - pixel.y))
                    if r2 <= 25 { total += value } else if r2 > 30 { (ring, ringCount) = (ring + value, ringCount + 1) }
                }
            }
            ids.append(Double(packed << 16 | Int64(ids.count)))
            ras.append(star.ra)
            decs.append(star.dec)
            fluxes.append(total - area * ring / max(1, ringCount))
        }
        return try SourceCatalog(columns: ["id": ids, "ra": ras, "dec": decs, "flux": fluxes], photoCalib: coadd.photoCalib)
    }
}

public import Composites
import Foundation

/// Reads and writes ``Exposure``s as multi-extension FITS in afw's layout.
///
/// Layout written: an empty primary HDU holding metadata and the VisitInfo keys (`EXPTIME`,
/// `DATE-AVG`, `TIMESYS`, `BORE-RA`, `BORE-DEC`, `BORE-ROTANG`, `BORE-AIRMASS`, `EXPID`,
/// `INSTRUMENT`); image HDUs `IMAGE`, `MASK` (with `MP_<plane>` keys), `VARIANCE`, each with
/// the WCS, `LTV1/2` and afw's `A` WCS for xy0; then a `GaussianPsf` table (`dimensions_x`,
/// `dimensions_y`, `sigma`) or a `PSF_KERNEL` image, and a `PhotoCalib` table
/// (`calibrationMean`, `calibrationErr`). The tables use afw's archive names and columns, so
/// one reader serves our files and afw's; afw files are read through their `ARCHIVE_INDEX`.
/// The primary header's `PSF_HDU` and `PCAL_HDU` (1-based, 0 = none) point at the component
/// HDUs so that a read never scans the file.
public enum ExposureFITS {
    // MARK: Writing

    /// Writes `exposure` to a new file at `path`.
    public static func write<P: ImagePixel>(_ exposure: Exposure<P>, to path: String, compression: FITSCompression = .none) throws {
        let file = try FITSFile.create(path)
        try file.writeEmptyPrimary()
        for card in exposure.metadata.cards where !FITSWcs.isStructural(card.key) {
            try file.writeKey(card.key, card.value, comment: card.comment)
        }
        if let visitInfo = exposure.visitInfo {
            for (key, value) in visitInfoCards(visitInfo) { try file.writeKey(key, value) }
        }
        // Where the component HDUs are (1-based, 0 = none), so readers need not scan the file.
        let psfHDU = exposure.psf == nil ? 0 : 5
        let photoCalibHDU = exposure.photoCalib == nil ? 0 : (exposure.psf == nil ? 5 : 6)
        try file.writeKey("PSF_HDU", .int(Int64(psfHDU)), comment: "HDU (1-based) holding the PSF; 0 if none")
        try file.writeKey("PCAL_HDU", .int(Int64(photoCalibHDU)), comment: "HDU (1-based) holding the PhotoCalib; 0 if none")
        let xy0 = exposure.xy0
        let width = exposure.bbox.width, height = exposure.bbox.height
        let wcsCards = FITSWcs.cards(for: exposure.wcs, xy0: xy0)
        func planeHeader(_ name: String) throws {
            try file.writeKey("EXTNAME", .string(name))
            try file.writeKey("EXTTYPE", .string(name))
            try file.writeKey("INHERIT", .bool(true))
            for (key, value, comment) in wcsCards { try file.writeKey(key, value, comment: comment) }
        }
        try file.writeImage(exposure.image.pixels, width: width, height: height, compression: compression)
        try planeHeader("IMAGE")
        try file.writeImage(exposure.mask.image.pixels, width: width, height: height, compression: compression)
        try planeHeader("MASK")
        for (plane, bit) in exposure.mask.planes.sorted(by: { $0.value < $1.value }) {
            try file.writeKey("MP_\(plane)", .int(Int64(bit)), comment: "mask plane bit")
        }
        try file.writeImage(exposure.variance.pixels, width: width, height: height, compression: compression)
        try planeHeader("VARIANCE")
        switch exposure.psf {
        case .gaussian(let sigma, let psfWidth, let psfHeight):
            try file.writeTable(
                name: "GaussianPsf", doubles: [("sigma", sigma)],
                ints: [("dimensions_x", Int32(psfWidth)), ("dimensions_y", Int32(psfHeight))])
        case .image(let kernel):
            try file.writeImage(kernel.pixels, width: kernel.width, height: kernel.height, compression: .none)
            try file.writeKey("EXTNAME", "PSF_KERNEL")
        case nil:
            break
        }
        if let photoCalib = exposure.photoCalib {
            try file.writeTable(
                name: "PhotoCalib",
                doubles: [("calibrationMean", photoCalib.calibrationMean), ("calibrationErr", photoCalib.calibrationErr)], ints: [])
        }
        try file.close()
    }

    static func visitInfoCards(_ info: VisitInfo) -> [(String, JSONValue)] {
        var cards: [(String, JSONValue)] = []
        if let value = info.exposureTime { cards.append(("EXPTIME", .double(value))) }
        if let value = info.date { cards.append(("DATE-AVG", .string(value))) }
        cards.append(("TIMESYS", .string(info.timeScale)))
        if let value = info.boresightRaDec {
            cards.append(("BORE-RA", .double(value.ra)))
            cards.append(("BORE-DEC", .double(value.dec)))
        }
        if let value = info.boresightRotAngle { cards.append(("BORE-ROTANG", .double(value))) }
        if let value = info.boresightAirmass { cards.append(("BORE-AIRMASS", .double(value))) }
        if let value = info.id { cards.append(("EXPID", .int(value))) }
        if let value = info.instrument { cards.append(("INSTRUMENT", .string(value))) }
        return cards
    }

    static let visitInfoKeys: Set<String> = [
        "EXPTIME", "DATE-AVG", "TIMESYS", "BORE-RA", "BORE-DEC", "BORE-ROTANG", "BORE-AIRMASS", "EXPID", "INSTRUMENT",
    ]
    /// Our own pointer keywords, not part of the exposure's metadata.
    static let pointerKeys: Set<String> = ["PSF_HDU", "PCAL_HDU"]

    // MARK: Reading

    /// Where the parts of an exposure file are.
    struct Layout {
        var image: Int
        var mask: Int?
        var variance: Int?
        /// EXTNAMEs by HDU index: every HDU when `scanned`, else only the probed ones.
        var names: [String?]
        var scanned = false
    }

    static func layout(_ file: FITSFile) throws -> Layout {
        // The common case (ours and afw's): IMAGE, MASK, VARIANCE in HDUs 1–3. Probing them
        // avoids counting HDUs, which makes cfitsio parse every header in the file.
        var names: [String?] = [nil]
        var images: [Int] = []
        for index in 1...3 {
            guard let isImage = try file.moveIfPresent(to: index) else { break }
            names.append(try file.readKey("EXTNAME")?.stringValue)
            if isImage, try file.imageShape().axes.count == 2 { images.append(index) }
        }
        if names.count == 4, names[1] == "IMAGE", names[2] == "MASK", names[3] == "VARIANCE" {
            return Layout(image: 1, mask: 2, variance: 3, names: names)
        }
        if names.count == 4, names[1...3].allSatisfy({ $0 == nil }), images == [1, 2, 3] {
            return Layout(image: 1, mask: 2, variance: 3, names: names)
        }
        return try scannedLayout(file)
    }

    /// The image plane's HDU, as ``layout(_:)`` finds it, without reading the mask and
    /// variance headers when HDU 1 is named IMAGE (moving to HDU 3 makes cfitsio parse the
    /// headers before it): every branch of ``layout(_:)`` then picks HDU 1, unless the
    /// primary HDU is itself named IMAGE.
    static func imageIndex(_ file: FITSFile) throws -> Int {
        if try file.readKey("EXTNAME")?.stringValue != "IMAGE", try file.moveIfPresent(to: 1) != nil,
            try file.readKey("EXTNAME")?.stringValue == "IMAGE"
        {
            return 1
        }
        return try layout(file).image
    }

    /// Finds the planes by scanning every HDU's EXTNAME (files in other layouts).
    static func scannedLayout(_ file: FITSFile) throws -> Layout {
        let count = try file.hduCount()
        var names: [String?] = []
        var images: [Int] = []
        for index in 0..<count {
            let isImage = try file.move(to: index)
            names.append(try file.readKey("EXTNAME")?.stringValue)
            if isImage, try file.imageShape().axes.count == 2 { images.append(index) }
        }
        if let image = names.firstIndex(of: "IMAGE") {
            return Layout(
                image: image, mask: names.firstIndex(of: "MASK"), variance: names.firstIndex(of: "VARIANCE"), names: names, scanned: true)
        }
        // afw writes image, mask, variance as HDUs 1–3 even without EXTNAMEs.
        guard let first = images.first else {
            throw FITSError(
                path: file.path, kind: .corruptFile, message: "no 2-d image HDU in \(count) HDUs", context: "finding the image plane")
        }
        let mask = images.contains(first + 1) ? first + 1 : nil
        let variance = images.contains(first + 2) ? first + 2 : nil
        return Layout(image: first, mask: mask, variance: variance, names: names, scanned: true)
    }

    /// The EXTNAME-indexed list of every HDU, scanned on demand for components of files that
    /// carry neither our HDU pointers nor an afw archive.
    static func allNames(_ file: FITSFile, _ layout: Layout) throws -> [String?] {
        layout.scanned ? layout.names : try scannedLayout(file).names
    }

    /// Reads an exposure, or the part of it inside `bbox` (parent coordinates) — only the
    /// tiles a box touches are read.
    public static func read<P: ImagePixel>(
        _ type: P.Type, from path: String, bbox requested: Box2I? = nil, origin: ImageOrigin = .parent
    ) throws -> Exposure<P> {
        let file = try FITSFile.open(path)
        let layout = try layout(file)
        try file.move(to: 0)
        let primary = try file.readHeader()
        let plane = try imagePlane(P.self, file, image: layout.image, requested: requested, origin: origin)
        let (imageHeader, naxes, xy0, region, local) = (plane.header, plane.naxes, plane.xy0, plane.cutout.region, plane.cutout.local)
        let image = try Image(bbox: region, pixels: file.readPixels(P.self, width: naxes[0], height: naxes[1], box: local))
        // Planes are built once, from what is read: an empty placeholder would allocate and
        // zero a full plane only to throw it away.
        let mask: Mask
        if let index = layout.mask {
            try file.move(to: index)
            let header = try file.readHeader()
            try requirePlaneShape(file, naxes, "MASK")
            mask = Mask(
                image: try Image(bbox: region, pixels: file.readPixels(Int32.self, width: naxes[0], height: naxes[1], box: local)),
                planes: maskPlanes(header))
        } else {
            mask = Mask(bbox: region, planes: [:])
        }
        let variance: Image<Float>
        if let index = layout.variance {
            try file.move(to: index)
            try requirePlaneShape(file, naxes, "VARIANCE")
            variance = try Image(bbox: region, pixels: file.readPixels(Float.self, width: naxes[0], height: naxes[1], box: local))
        } else {
            variance = Image<Float>(bbox: region)
        }
        return Exposure(
            maskedImage: try MaskedImage(image: image, mask: mask, variance: variance),
            wcs: FITSWcs.wcs(from: imageHeader, xy0: xy0),
            psf: try readPsf(file, primary: primary, layout: layout),
            photoCalib: try readPhotoCalib(file, primary: primary, layout: layout),
            visitInfo: visitInfo(from: primary),
            metadata: metadata(from: primary))
    }

    /// The image plane's header and geometry, and the cutout a request covers (checked).
    /// `headerKeys` picks the header cards read (all when nil).
    private static func imagePlane<P: ImagePixel>(
        _ type: P.Type, _ file: FITSFile, image: Int, headerKeys: ((String) -> Bool)? = nil, requested: Box2I?, origin: ImageOrigin
    ) throws -> (header: Metadata, naxes: [Int], xy0: Point2I, cutout: Cutout) {
        try file.move(to: image)
        let header = try file.readHeader(keeping: headerKeys)
        let shape = try file.imageShape()
        guard shape.kind == P.kind else {
            throw FITSError(
                path: file.path, kind: .typeMismatch,
                message: "the image plane holds \(shape.typeName) pixels, not \(P.pixelTypeName)",
                context: "reading the image plane")
        }
        let xy0 = FITSWcs.xy0(from: header)
        let naxes = shape.axes
        do {
            let cutout = try Cutout(requested, origin: origin, imageBox: Box2I(min: xy0, extent: Extent2I(naxes[0], naxes[1])))
            return (header, naxes, xy0, cutout)
        } catch {
            throw FITSError(path: file.path, cutout: error)
        }
    }

    /// Reads one component of an exposure file, touching only what it needs: the image
    /// header for `wcs`, `bbox`, `dimensions`, `xy0`; the primary header for `visitInfo` and
    /// `metadata`; the component HDU for `psf` and `photoCalib`; one plane for `image`.
    public static func readComponent<P: ImagePixel>(
        _ type: P.Type, _ component: String, from path: String, bbox requested: Box2I? = nil, origin: ImageOrigin = .parent
    ) throws -> any Sendable {
        func absent() -> FITSError {
            FITSError(
                path: path, kind: .absentComponent, message: "the file holds no \(component)", context: "reading component \(component)")
        }
        let file = try FITSFile.open(path)
        switch component {
        case "wcs", "bbox", "dimensions", "xy0", "image":
            // Only the WCS cards of the image header: the other components read none.
            let plane = try imagePlane(
                P.self, file, image: try imageIndex(file), headerKeys: FITSWcs.isWcsKeyword, requested: requested, origin: origin)
            switch component {
            case "wcs":
                guard let wcs = FITSWcs.wcs(from: plane.header, xy0: plane.xy0) else { throw absent() }
                return wcs
            case "bbox": return plane.cutout.region
            case "dimensions": return plane.cutout.region.extent
            case "xy0": return plane.cutout.region.min
            default:
                return try Image(
                    bbox: plane.cutout.region,
                    pixels: file.readPixels(P.self, width: plane.naxes[0], height: plane.naxes[1], box: plane.cutout.local))
            }
        case "visitInfo", "metadata":
            try file.move(to: 0)
            let primary = try file.readHeader()
            if component == "metadata" { return metadata(from: primary) }
            guard let visitInfo = visitInfo(from: primary) else { throw absent() }
            return visitInfo
        case "psf", "photoCalib":
            try file.move(to: 0)
            let primary = try file.readHeader()
            let layout = Layout(image: 1, mask: nil, variance: nil, names: [])
            let value: (any Sendable)? =
                component == "psf"
                ? try readPsf(file, primary: primary, layout: layout) : try readPhotoCalib(file, primary: primary, layout: layout)
            guard let value else { throw absent() }
            return value
        default:
            let exposure = try read(P.self, from: path, bbox: requested, origin: origin)
            do { return try exposure.component(component) } catch {
                throw FITSError(path: path, kind: .absentComponent, message: "\(error)", context: "reading component \(component)")
            }
        }
    }

    private static func requirePlaneShape(_ file: FITSFile, _ naxes: [Int], _ name: String) throws {
        let shape = try file.imageShape().axes
        guard shape == naxes else {
            throw FITSError(
                path: file.path, kind: .corruptFile,
                message: "\(name) plane is \(shape) but the image is \(naxes)", context: "reading the \(name) plane")
        }
    }

    /// Everything but the pixels: planes, box, WCS, mask planes, PSF, calibration, visit.
    public static func info(of path: String) throws -> ExposureFileInfo {
        let file = try FITSFile.open(path)
        let layout = try layout(file)
        try file.move(to: 0)
        let primary = try file.readHeader()
        var planes: [ExposureFileInfo.Plane] = []
        var bbox = Box2I(min: Point2I(0, 0), extent: Extent2I(0, 0))
        var wcs: Wcs?
        var maskPlanes: [String: Int] = [:]
        for (name, index) in [("IMAGE", layout.image), ("MASK", layout.mask), ("VARIANCE", layout.variance)] {
            guard let index else { continue }
            try file.move(to: index)
            let header = try file.readHeader()
            let shape = try file.imageShape()
            let naxes = shape.axes
            planes.append(
                .init(
                    name: name, hdu: index, pixelType: shape.typeName,
                    compressed: try file.readKey("ZIMAGE")?.boolValue == true))
            if name == "IMAGE" {
                let xy0 = FITSWcs.xy0(from: header)
                bbox = Box2I(min: xy0, extent: Extent2I(naxes[0], naxes[1]))
                wcs = FITSWcs.wcs(from: header, xy0: xy0)
            }
            if name == "MASK" { maskPlanes = self.maskPlanes(header) }
        }
        return ExposureFileInfo(
            planes: planes, bbox: bbox, wcs: wcs, maskPlanes: maskPlanes,
            psf: try readPsf(file, primary: primary, layout: layout),
            photoCalib: try readPhotoCalib(file, primary: primary, layout: layout),
            visitInfo: visitInfo(from: primary))
    }

    static func maskPlanes(_ header: Metadata) -> [String: Int] {
        var planes: [String: Int] = [:]
        for card in header.cards where card.key.hasPrefix("MP_") {
            if let bit = FileLimits.int(card.value.intValue, in: 0...31) { planes[String(card.key.dropFirst(3))] = bit }
        }
        return planes
    }

    static func visitInfo(from primary: Metadata) -> VisitInfo? {
        guard primary.keys.contains(where: { visitInfoKeys.contains($0) && $0 != "TIMESYS" }) else { return nil }
        var raDec: SpherePoint?
        if let ra = primary["BORE-RA"]?.doubleValue, let dec = primary["BORE-DEC"]?.doubleValue { raDec = SpherePoint(ra: ra, dec: dec) }
        return VisitInfo(
            exposureTime: primary["EXPTIME"]?.doubleValue, date: primary["DATE-AVG"]?.stringValue,
            timeScale: primary["TIMESYS"]?.stringValue ?? "TAI", boresightRaDec: raDec,
            boresightRotAngle: primary["BORE-ROTANG"]?.doubleValue,
            boresightAirmass: primary["BORE-AIRMASS"]?.doubleValue ?? primary["AIRMASS"]?.doubleValue,
            instrument: primary["INSTRUMENT"]?.stringValue, id: primary["EXPID"]?.intValue)
    }

    static func metadata(from primary: Metadata) -> Metadata {
        var result = Metadata()
        for card in primary.cards
        where !FITSWcs.isStructural(card.key) && !visitInfoKeys.contains(card.key) && !pointerKeys.contains(card.key)
            && card.key != "AR_HDU" && !card.key.hasSuffix("_ID")
        {
            result.set(card.key, card.value, comment: card.comment)
        }
        return result
    }

    /// Finds an afw archive entry by its ID key (`PSF_ID`…): returns (HDU index, 1-based row,
    /// persistable name), or nil when the file has no archive or no such entry.
    static func archiveEntry(_ file: FITSFile, primary: Metadata, idKey: String) throws -> (Int, Int, String)? {
        let hduCount = 100_000
        guard let archiveHDU = FileLimits.int(primary["AR_HDU"]?.intValue, in: 1...hduCount), let id = primary[idKey]?.intValue else {
            return nil
        }
        try file.move(to: archiveHDU - 1)
        let rows = try file.rowCount()
        for row in 1...max(rows, 1) where rows > 0 {
            guard let rowId = FileLimits.int(try file.readDouble(column: "id", row: row), in: Int(Int32.min)...Int(Int32.max)),
                Int64(rowId) == id
            else { continue }
            guard let catalog = FileLimits.int(try file.readDouble(column: "cat.archive", row: row), in: 0...hduCount),
                let row0 = FileLimits.int(try file.readDouble(column: "row0", row: row), in: 0...Int(Int32.max))
            else { return nil }
            let name = try file.readString(column: "name", row: row) ?? ""
            return (archiveHDU + catalog - 1, row0 + 1, name)
        }
        return nil
    }

    static func readPsf(_ file: FITSFile, primary: Metadata, layout: Layout) throws -> Psf? {
        var names: [String?]
        if let pointer = primary["PSF_HDU"]?.intValue {
            guard let hdu = FileLimits.int(pointer, in: 0...100_000), hdu > 0 else { return nil }
            try file.move(to: hdu - 1)
            let name = try file.readKey("EXTNAME")?.stringValue
            names = Array(repeating: nil, count: hdu)
            names[hdu - 1] = name
        } else if let (hdu, row, name) = try archiveEntry(file, primary: primary, idKey: "PSF_ID") {
            guard name == "GaussianPsf" else { return nil }
            try file.move(to: hdu)
            return try gaussian(file, row: row)
        } else if primary["AR_HDU"] != nil {
            return nil
        } else {
            names = try allNames(file, layout)
        }
        if let hdu = names.firstIndex(of: "GaussianPsf") {
            try file.move(to: hdu)
            return try gaussian(file, row: 1)
        }
        if let hdu = names.firstIndex(of: "PSF_KERNEL") {
            try file.move(to: hdu)
            let naxes = try file.imageShape().axes
            let kernel = try Image(
                bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(naxes[0], naxes[1])),
                pixels: file.readPixels(Double.self, width: naxes[0], height: naxes[1]))
            return .image(kernel: kernel)
        }
        return nil
    }

    private static func gaussian(_ file: FITSFile, row: Int) throws -> Psf? {
        guard row <= (try file.rowCount()), let sigma = try file.readDouble(column: "sigma", row: row), sigma.isFinite,
            let width = FileLimits.int(try file.readDouble(column: "dimensions_x", row: row), in: 0...FileLimits.maxAxis),
            let height = FileLimits.int(try file.readDouble(column: "dimensions_y", row: row), in: 0...FileLimits.maxAxis)
        else { return nil }
        return .gaussian(sigma: sigma, width: width, height: height)
    }

    static func readPhotoCalib(_ file: FITSFile, primary: Metadata, layout: Layout) throws -> PhotoCalib? {
        var location: (Int, Int)?
        if let pointer = primary["PCAL_HDU"]?.intValue {
            guard let hdu = FileLimits.int(pointer, in: 0...100_000), hdu > 0 else { return nil }
            location = (hdu - 1, 1)
        } else if let (hdu, row, name) = try archiveEntry(file, primary: primary, idKey: "PHOTOCALIB_ID") {
            guard name == "PhotoCalib" else { return nil }
            location = (hdu, row)
        } else if primary["AR_HDU"] == nil, let hdu = try allNames(file, layout).firstIndex(of: "PhotoCalib") {
            location = (hdu, 1)
        }
        guard let (hdu, row) = location else { return nil }
        try file.move(to: hdu)
        guard row <= (try file.rowCount()) else { return nil }
        guard let mean = try file.readDouble(column: "calibrationMean", row: row) else { return nil }
        return PhotoCalib(calibrationMean: mean, calibrationErr: try file.readDouble(column: "calibrationErr", row: row) ?? 0)
    }
}

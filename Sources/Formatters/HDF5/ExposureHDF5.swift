public import Composites
import Foundation

/// Reads and writes ``Exposure``s as HDF5, readable with h5py.
///
/// Layout: datasets `/image`, `/mask`, `/variance` (height × width, chunked, optional
/// shuffle + deflate); root attribute `xy0` = [x0, y0]; `/mask` attributes `MP_<plane>` = bit;
/// groups `/wcs` (`crpix` 0-based parent, `crval`, `cd` row-major, `sip_a`/`sip_b`/`sip_ap`/
/// `sip_bp` with `*_order`), `/psf` (`model` = gaussian|image, `sigma`, `dimensions`, dataset
/// `kernel`), `/photoCalib` (`calibrationMean`, `calibrationErr`), `/visitInfo`, and
/// `/metadata` (attribute `cards`: the header cards as JSON, in order).
public enum ExposureHDF5 {
    /// Writes `exposure` to a new file at `path`.
    public static func write<P: ImagePixel>(_ exposure: Exposure<P>, to path: String, layout: HDF5Layout = HDF5Layout()) throws {
        let file = try HDF5File.create(path)
        let width = exposure.bbox.width, height = exposure.bbox.height
        try file.setAttribute("/", "format", string: "SwiftButler.Exposure")
        try file.setAttribute("/", "xy0", ints: [Int64(exposure.xy0.x), Int64(exposure.xy0.y)])
        try file.writeImage("/image", exposure.image.pixels, width: width, height: height, layout: layout)
        try file.writeImage("/mask", exposure.mask.image.pixels, width: width, height: height, layout: layout)
        for (plane, bit) in exposure.mask.planes { try file.setAttribute("/mask", "MP_\(plane)", ints: [Int64(bit)]) }
        try file.setAttribute("/mask", "plane_names", string: exposure.mask.planes.keys.sorted().joined(separator: ","))
        try file.writeImage("/variance", exposure.variance.pixels, width: width, height: height, layout: layout)
        if let wcs = exposure.wcs {
            try file.createGroup("/wcs")
            try file.setAttribute("/wcs", "crpix", doubles: [wcs.crpix.x, wcs.crpix.y])
            try file.setAttribute("/wcs", "crval", doubles: [wcs.crval.ra, wcs.crval.dec])
            try file.setAttribute("/wcs", "cd", doubles: wcs.cd.flatMap { $0 })
            for (name, polynomial) in [("sip_a", wcs.sipA), ("sip_b", wcs.sipB), ("sip_ap", wcs.sipAP), ("sip_bp", wcs.sipBP)] {
                guard let polynomial else { continue }
                try file.setAttribute("/wcs", "\(name)_order", ints: [Int64(polynomial.order)])
                try file.setAttribute("/wcs", name, doubles: polynomial.coefficients)
            }
        }
        switch exposure.psf {
        case .gaussian(let sigma, let psfWidth, let psfHeight):
            try file.createGroup("/psf")
            try file.setAttribute("/psf", "model", string: "gaussian")
            try file.setAttribute("/psf", "sigma", doubles: [sigma])
            try file.setAttribute("/psf", "dimensions", ints: [Int64(psfWidth), Int64(psfHeight)])
        case .image(let kernel):
            try file.createGroup("/psf")
            try file.setAttribute("/psf", "model", string: "image")
            try file.writeImage("/psf/kernel", kernel.pixels, width: kernel.width, height: kernel.height, layout: HDF5Layout())
        case nil:
            break
        }
        if let photoCalib = exposure.photoCalib {
            try file.createGroup("/photoCalib")
            try file.setAttribute("/photoCalib", "calibrationMean", doubles: [photoCalib.calibrationMean])
            try file.setAttribute("/photoCalib", "calibrationErr", doubles: [photoCalib.calibrationErr])
        }
        if let info = exposure.visitInfo {
            try file.createGroup("/visitInfo")
            try file.setAttribute("/visitInfo", "timeScale", string: info.timeScale)
            if let value = info.exposureTime { try file.setAttribute("/visitInfo", "exposureTime", doubles: [value]) }
            if let value = info.date { try file.setAttribute("/visitInfo", "date", string: value) }
            if let value = info.boresightRaDec { try file.setAttribute("/visitInfo", "boresightRaDec", doubles: [value.ra, value.dec]) }
            if let value = info.boresightRotAngle { try file.setAttribute("/visitInfo", "boresightRotAngle", doubles: [value]) }
            if let value = info.boresightAirmass { try file.setAttribute("/visitInfo", "boresightAirmass", doubles: [value]) }
            if let value = info.instrument { try file.setAttribute("/visitInfo", "instrument", string: value) }
            if let value = info.id { try file.setAttribute("/visitInfo", "id", ints: [value]) }
        }
        try file.createGroup("/metadata")
        let cards = try JSONEncoder().encode(exposure.metadata.cards)
        try file.setAttribute("/metadata", "cards", string: String(decoding: cards, as: UTF8.self))
        try file.close()
    }

    /// Reads an exposure, or the part inside `bbox` (parent coordinates) by hyperslab.
    public static func read<P: ImagePixel>(
        _ type: P.Type, from path: String, bbox requested: Box2I? = nil, origin: ImageOrigin = .parent
    ) throws -> Exposure<P> {
        let file = try HDF5File.open(path)
        guard file.exists("/image") else {
            throw HDF5Error(path: path, kind: .corruptFile, message: "no /image dataset", context: "reading an exposure")
        }
        let shape = try file.imageShape("/image")
        let (width, height) = (shape.width, shape.height)
        guard shape.kind == P.kind else {
            throw HDF5Error(
                path: path, kind: .typeMismatch, message: "/image does not hold \(P.pixelTypeName) pixels",
                context: "reading the image plane")
        }
        let imageBox = Box2I(min: try readXY0(file), extent: Extent2I(width, height))
        let cutout: Cutout
        do { cutout = try Cutout(requested, origin: origin, imageBox: imageBox) } catch { throw HDF5Error(path: path, cutout: error) }
        let region = cutout.region
        let local = cutout.isWhole ? nil : cutout.local
        let image = try Image(bbox: region, pixels: file.readImage("/image", as: P.self, width: width, height: height, box: local))
        // Built once from what is read (no zero-filled placeholder planes).
        let mask: Mask
        if file.exists("/mask") {
            try requireShape(file, "/mask", Int32.self, width, height)
            mask = Mask(
                image: try Image(bbox: region, pixels: file.readImage("/mask", as: Int32.self, width: width, height: height, box: local)),
                planes: try maskPlanes(file))
        } else {
            mask = Mask(bbox: region, planes: [:])
        }
        let variance: Image<Float>
        if file.exists("/variance") {
            try requireShape(file, "/variance", Float.self, width, height)
            variance = try Image(
                bbox: region, pixels: file.readImage("/variance", as: Float.self, width: width, height: height, box: local))
        } else {
            variance = Image<Float>(bbox: region)
        }
        return Exposure(
            maskedImage: try MaskedImage(image: image, mask: mask, variance: variance),
            wcs: try readWcs(file), psf: try readPsf(file), photoCalib: try readPhotoCalib(file),
            visitInfo: try readVisitInfo(file), metadata: try readMetadata(file))
    }

    /// Reads one component, touching only the attributes or dataset it needs.
    public static func readComponent<P: ImagePixel>(
        _ type: P.Type, _ component: String, from path: String, bbox requested: Box2I? = nil, origin: ImageOrigin = .parent
    ) throws -> any Sendable {
        func absent() -> HDF5Error {
            HDF5Error(
                path: path, kind: .absentComponent, message: "the file holds no \(component)", context: "reading component \(component)")
        }
        let file = try HDF5File.open(path)
        switch component {
        case "wcs": return try readWcs(file) ?? { throw absent() }()
        case "psf": return try readPsf(file) ?? { throw absent() }()
        case "photoCalib": return try readPhotoCalib(file) ?? { throw absent() }()
        case "visitInfo": return try readVisitInfo(file) ?? { throw absent() }()
        case "metadata": return try readMetadata(file)
        case "bbox", "dimensions", "xy0":
            guard file.exists("/image") else { throw absent() }
            let shape = try file.imageShape("/image")
            let box = Box2I(min: try readXY0(file), extent: Extent2I(shape.width, shape.height))
            switch component {
            case "bbox": return box
            case "dimensions": return box.extent
            default: return box.min
            }
        default:
            let exposure = try read(P.self, from: path, bbox: requested, origin: origin)
            do { return try exposure.component(component) } catch {
                throw HDF5Error(path: path, kind: .absentComponent, message: "\(error)", context: "reading component \(component)")
            }
        }
    }

    /// Everything but the pixels.
    public static func info(of path: String) throws -> ExposureFileInfo {
        let file = try HDF5File.open(path)
        var planes: [ExposureFileInfo.Plane] = []
        var bbox = Box2I(min: Point2I(0, 0), extent: Extent2I(0, 0))
        for (index, name) in ["image", "mask", "variance"].enumerated() where file.exists("/" + name) {
            let shape = try file.imageShape("/" + name)
            planes.append(.init(name: name.uppercased(), hdu: index, pixelType: shape.kind?.rawValue ?? "other", compressed: false))
            if name == "image" { bbox = Box2I(min: try readXY0(file), extent: Extent2I(shape.width, shape.height)) }
        }
        return ExposureFileInfo(
            planes: planes, bbox: bbox, wcs: try readWcs(file), maskPlanes: file.exists("/mask") ? try maskPlanes(file) : [:],
            psf: try readPsf(file), photoCalib: try readPhotoCalib(file), visitInfo: try readVisitInfo(file))
    }

    /// Where the pixel planes' chunks lie in an exposure file (``ByteLayout``): everything
    /// else (object headers, B-trees, attributes, the PSF kernel) is what a ranged read always
    /// fetches.
    public static func byteLayout(of path: String) throws -> ByteLayout {
        let file = try HDF5File.open(path)
        let xy0 = try readXY0(file)
        var planes: [ByteLayout.Plane] = []
        for name in ["/image", "/mask", "/variance"] where file.exists(name) {
            guard let (chunk, shape, chunks) = try file.chunkLayout(name) else { continue }
            planes.append(
                ByteLayout.Plane(
                    name: name, box: Box2I(min: xy0, extent: Extent2I(shape.width, shape.height)),
                    spans: chunks.compactMap { $0.count == 2 ? $0[0]..<$0[0] + $0[1] : nil },
                    storage: .tiles(width: chunk.width, height: chunk.height, tiles: chunks)))
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HDF5Error(path: path, kind: .missingFile, message: String(cString: strerror(errno)), context: "reading the byte layout")
        }
        return ByteLayout(fileSize: Int64(info.st_size), planes: planes)
    }

    private static func requireShape<P: ImagePixel>(_ file: HDF5File, _ name: String, _ type: P.Type, _ width: Int, _ height: Int) throws {
        let shape = try file.imageShape(name)
        guard shape.width == width, shape.height == height, shape.kind == P.kind else {
            throw HDF5Error(
                path: file.path, kind: .corruptFile,
                message:
                    "\(name) is \(shape.width)×\(shape.height) \(shape.kind?.rawValue ?? "of another type"), the image \(width)×\(height) \(P.pixelTypeName)",
                context: "reading \(name)")
        }
    }

    private static func readXY0(_ file: HDF5File) throws -> Point2I {
        guard let values = try file.ints("/", "xy0"), values.count == 2 else { return Point2I(0, 0) }
        let limit = -FileLimits.maxOrigin...FileLimits.maxOrigin
        guard let x = FileLimits.int(values[0], in: limit), let y = FileLimits.int(values[1], in: limit) else {
            throw HDF5Error(path: file.path, kind: .corruptFile, message: "xy0 \(values) is out of range", context: "reading xy0")
        }
        return Point2I(x, y)
    }

    private static func maskPlanes(_ file: HDF5File) throws -> [String: Int] {
        var planes: [String: Int] = [:]
        let recorded = try planeNames(file)
        for name in recorded ?? Mask.defaultPlanes.keys.sorted() {
            if let bit = FileLimits.int(try file.ints("/mask", "MP_\(name)")?.first, in: 0...31) { planes[name] = bit }
        }
        return planes
    }

    /// The mask plane names the writer recorded (nil for files without the list).
    private static func planeNames(_ file: HDF5File) throws -> [String]? {
        try file.string("/mask", "plane_names")?.split(separator: ",").map(String.init)
    }

    private static func readWcs(_ file: HDF5File) throws -> Wcs? {
        guard file.exists("/wcs"), let crpix = try file.doubles("/wcs", "crpix"), let crval = try file.doubles("/wcs", "crval"),
            let cd = try file.doubles("/wcs", "cd"), crpix.count == 2, crval.count == 2, cd.count == 4
        else { return nil }
        var wcs = Wcs(
            crpix: Point2D(crpix[0], crpix[1]), crval: SpherePoint(ra: crval[0], dec: crval[1]), cd: [[cd[0], cd[1]], [cd[2], cd[3]]])
        func polynomial(_ name: String) throws -> SIPPolynomial? {
            guard let order = FileLimits.int(try file.ints("/wcs", "\(name)_order")?.first, in: 0...FileLimits.maxSIPOrder),
                let coefficients = try file.doubles("/wcs", name)
            else { return nil }
            var result = SIPPolynomial(order: order)
            guard coefficients.count == result.coefficients.count else { return nil }
            for p in 0...order { for q in 0...order { result[p, q] = coefficients[p * (order + 1) + q] } }
            return result
        }
        wcs.sipA = try polynomial("sip_a")
        wcs.sipB = try polynomial("sip_b")
        wcs.sipAP = try polynomial("sip_ap")
        wcs.sipBP = try polynomial("sip_bp")
        return wcs
    }

    private static func readPsf(_ file: HDF5File) throws -> Psf? {
        guard file.exists("/psf"), let model = try file.string("/psf", "model") else { return nil }
        if model == "gaussian", let sigma = try file.doubles("/psf", "sigma")?.first, sigma.isFinite,
            let dimensions = try file.ints("/psf", "dimensions"), dimensions.count == 2,
            let width = FileLimits.int(dimensions[0], in: 0...FileLimits.maxAxis),
            let height = FileLimits.int(dimensions[1], in: 0...FileLimits.maxAxis)
        {
            return .gaussian(sigma: sigma, width: width, height: height)
        }
        if model == "image", file.exists("/psf/kernel") {
            let shape = try file.imageShape("/psf/kernel")
            let pixels = try file.readImage("/psf/kernel", as: Double.self, width: shape.width, height: shape.height, box: nil)
            return .image(kernel: try Image(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(shape.width, shape.height)), pixels: pixels))
        }
        return nil
    }

    private static func readPhotoCalib(_ file: HDF5File) throws -> PhotoCalib? {
        guard file.exists("/photoCalib"), let mean = try file.doubles("/photoCalib", "calibrationMean")?.first else { return nil }
        return PhotoCalib(calibrationMean: mean, calibrationErr: try file.doubles("/photoCalib", "calibrationErr")?.first ?? 0)
    }

    private static func readVisitInfo(_ file: HDF5File) throws -> VisitInfo? {
        guard file.exists("/visitInfo") else { return nil }
        let raDec = try file.doubles("/visitInfo", "boresightRaDec")
        return VisitInfo(
            exposureTime: try file.doubles("/visitInfo", "exposureTime")?.first, date: try file.string("/visitInfo", "date"),
            timeScale: try file.string("/visitInfo", "timeScale") ?? "TAI",
            boresightRaDec: raDec.flatMap { $0.count == 2 ? SpherePoint(ra: $0[0], dec: $0[1]) : nil },
            boresightRotAngle: try file.doubles("/visitInfo", "boresightRotAngle")?.first,
            boresightAirmass: try file.doubles("/visitInfo", "boresightAirmass")?.first,
            instrument: try file.string("/visitInfo", "instrument"), id: try file.ints("/visitInfo", "id")?.first)
    }

    private static func readMetadata(_ file: HDF5File) throws -> Metadata {
        guard file.exists("/metadata"), let text = try file.string("/metadata", "cards") else { return Metadata() }
        let cards: [Metadata.Card]
        do { cards = try JSONDecoder().decode([Metadata.Card].self, from: Data(text.utf8)) } catch {
            throw HDF5Error(
                path: file.path, kind: .corruptFile, message: "/metadata@cards is not valid card JSON: \(error)",
                context: "reading metadata")
        }
        var metadata = Metadata()
        for card in cards { metadata.set(card.key, card.value, comment: card.comment) }
        return metadata
    }
}

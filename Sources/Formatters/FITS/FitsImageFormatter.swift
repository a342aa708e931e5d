public import Composites
public import Foundation

/// One image plane (`Image<Pixel>` or `Mask`) as a FITS file: an empty primary HDU and one
/// image HDU with `LTV1/2` for xy0 (and `MP_*` keys for a mask), so that a disassembled
/// exposure's planes are ordinary FITS images. Reads honour `bbox`/`origin`; `bbox`,
/// `dimensions` and `xy0` are read from the header alone.
public struct FitsImageFormatter: FileFormatter {
    /// How the plane is written.
    public let compression: FITSCompression

    /// A formatter writing with `compression`.
    public init(compression: FITSCompression = .none) { self.compression = compression }

    public var name: String { "FitsImageFormatter" }
    public var defaultExtension: String { ".fits" }
    public var readableExtensions: [String] { [] }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        FitsImageFormatter(compression: try FitsExposureFormatter(compression: compression).compression(configuredBy: parameters))
    }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        if let mask = value as? Mask {
            try FITSPlane.write(mask.image, planes: mask.planes, to: url.path, compression: compression)
        } else if let image = value as? any AnyImage {
            try writeOpened(image, to: url.path)
        } else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "write", kind: .typeMismatch, reason: "\(type(of: value)) is not an image plane"
            )
        }
    }

    private func writeOpened<I: AnyImage>(_ value: I, to path: String) throws {
        try FITSPlane.write(value.image, planes: nil, to: path, compression: compression)
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        if storageClass.inMemoryType == Mask.self {
            let (image, planes) = try FITSPlane.read(Int32.self, from: url.path, bbox: box, origin: origin)
            return Mask(image: image, planes: planes)
        }
        guard let imageType = storageClass.inMemoryType as? any AnyImage.Type else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .typeMismatch,
                reason: "storage class \(storageClass.name) is not an image plane")
        }
        return try Self.readImage(imageType, from: url.path, bbox: box, origin: origin)
    }

    private static func readImage<I: AnyImage>(_ type: I.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> any Sendable
    {
        try FITSPlane.read(I.Pixel.self, from: path, bbox: bbox, origin: origin).image
    }

    public func byteLayout(of url: URL) throws -> ByteLayout? { try ByteLayout.fits(at: url.path) }

    public func metadataRanges(fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]) throws -> [Range<Int64>]? {
        try FITSHeaderWalk.metadataRanges(fileSize: fileSize, path: path, read: read)
    }

    public func partialNeed(component: String?, parameters: ReadParameters) -> ByteLayout.Need? {
        ByteLayout.need(component: component, parameters: parameters, pixelComponents: [])
    }

    public func readComponent(
        _ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> any Sendable {
        let box = try FITSPlane.box(of: url.path)
        switch component {
        case "bbox": return box
        case "dimensions": return box.extent
        case "xy0": return box.min
        default:
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .absentComponent,
                reason: "an image plane has no component \(component)")
        }
    }
}

/// Single-plane FITS files: the building block of disassembled exposures.
enum FITSPlane {
    static func write<P: ImagePixel>(_ image: Image<P>, planes: [String: Int]?, to path: String, compression: FITSCompression) throws {
        let file = try FITSFile.create(path)
        try file.writeEmptyPrimary()
        try file.writeImage(image.pixels, width: image.width, height: image.height, compression: compression)
        for (key, value, comment) in FITSWcs.cards(for: nil, xy0: image.xy0) { try file.writeKey(key, value, comment: comment) }
        for (plane, bit) in (planes ?? [:]).sorted(by: { $0.value < $1.value }) {
            try file.writeKey("MP_\(plane)", .int(Int64(bit)), comment: "mask plane bit")
        }
        try file.close()
    }

    /// The first 2-d image HDU: its header's box (no pixels read).
    static func box(of path: String) throws -> Box2I {
        let file = try FITSFile.open(path)
        let (_, header, naxes) = try firstImage(file)
        return Box2I(min: FITSWcs.xy0(from: header), extent: Extent2I(naxes[0], naxes[1]))
    }

    static func read<P: ImagePixel>(
        _ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin
    ) throws -> (image: Image<P>, planes: [String: Int]) {
        let file = try FITSFile.open(path)
        let (_, header, naxes) = try firstImage(file)
        let xy0 = FITSWcs.xy0(from: header)
        let cutout: Cutout
        do { cutout = try Cutout(bbox, origin: origin, imageBox: Box2I(min: xy0, extent: Extent2I(naxes[0], naxes[1]))) } catch {
            throw FITSError(path: path, cutout: error)
        }
        let pixels = try file.readPixels(P.self, width: naxes[0], height: naxes[1], box: cutout.local)
        return (try Image(bbox: cutout.region, pixels: pixels), ExposureFITS.maskPlanes(header))
    }

    private static func firstImage(_ file: FITSFile) throws -> (Int, Metadata, [Int]) {
        for index in 0..<2 {
            guard try file.move(to: index) else { continue }
            let naxes = try file.imageShape().axes
            if naxes.count == 2 { return (index, try file.readHeader(), naxes) }
        }
        throw FITSError(path: file.path, kind: .corruptFile, message: "no 2-d image in HDU 0 or 1", context: "reading an image plane")
    }
}

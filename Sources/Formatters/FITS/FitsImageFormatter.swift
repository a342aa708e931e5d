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
        switch value {
        case let image as Image<Float>: try FITSPlane.write(image, planes: nil, to: url.path, compression: compression)
        case let image as Image<Double>: try FITSPlane.write(image, planes: nil, to: url.path, compression: compression)
        case let image as Image<Int32>: try FITSPlane.write(image, planes: nil, to: url.path, compression: compression)
        case let image as Image<UInt16>: try FITSPlane.write(image, planes: nil, to: url.path, compression: compression)
        case let mask as Mask: try FITSPlane.write(mask.image, planes: mask.planes, to: url.path, compression: compression)
        default:
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(type(of: value)) is not an image plane")
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        switch ObjectIdentifier(storageClass.inMemoryType) {
        case ObjectIdentifier(Image<Float>.self): return try FITSPlane.read(Float.self, from: url.path, bbox: box, origin: origin).image
        case ObjectIdentifier(Image<Double>.self): return try FITSPlane.read(Double.self, from: url.path, bbox: box, origin: origin).image
        case ObjectIdentifier(Image<Int32>.self): return try FITSPlane.read(Int32.self, from: url.path, bbox: box, origin: origin).image
        case ObjectIdentifier(Image<UInt16>.self): return try FITSPlane.read(UInt16.self, from: url.path, bbox: box, origin: origin).image
        case ObjectIdentifier(Mask.self):
            let (image, planes) = try FITSPlane.read(Int32.self, from: url.path, bbox: box, origin: origin)
            return Mask(image: image, planes: planes)
        default:
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "storage class \(storageClass.name) is not an image plane")
        }
    }

    public func readComponent(_ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let box = try FITSPlane.box(of: url.path)
        switch component {
        case "bbox": return box
        case "dimensions": return box.extent
        case "xy0": return box.min
        default:
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "an image plane has no component \(component)")
        }
    }
}

/// Single-plane FITS files: the building block of disassembled exposures.
enum FITSPlane {
    static func write<P: FITSPixel>(_ image: Image<P>, planes: [String: Int]?, to path: String, compression: FITSCompression) throws {
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

    static func read<P: FITSPixel>(_ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> (image: Image<P>, planes: [String: Int]) {
        let file = try FITSFile.open(path)
        let (_, header, naxes) = try firstImage(file)
        let xy0 = FITSWcs.xy0(from: header)
        let full = Box2I(min: xy0, extent: Extent2I(naxes[0], naxes[1]))
        let region = bbox.map { origin == .parent ? $0 : $0.shifted(dx: xy0.x, dy: xy0.y) } ?? full
        guard !region.isEmpty, full.contains(region) else {
            throw FITSError(path: path, function: "butler", status: .ok,
                            message: "cutout box \(bbox!) (\(origin.rawValue) coordinates) is not inside the image box \(full)", context: "reading a cutout")
        }
        let pixels = try file.readPixels(P.self, width: naxes[0], height: naxes[1], box: region.shifted(dx: -xy0.x, dy: -xy0.y))
        return (try Image(bbox: region, pixels: pixels), ExposureFITS.maskPlanes(header))
    }

    private static func firstImage(_ file: FITSFile) throws -> (Int, Metadata, [Int]) {
        for index in 0..<2 {
            guard try file.move(to: index) else { continue }
            let naxes = try file.imageShape().naxes
            if naxes.count == 2 { return (index, try file.readHeader(), naxes) }
        }
        throw FITSError(path: file.path, function: "butler", status: .badHDUNumber, message: "no 2-d image in HDU 0 or 1", context: "reading an image plane")
    }
}

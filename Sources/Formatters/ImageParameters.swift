public import Composites
public import Foundation

/// The image read parameters shared by the FITS and HDF5 formatters: `bbox` (inclusive corners
/// `[x0, y0, x1, y1]`) and `origin` (`parent`, the default, or `local`).
public enum ImageParameters {
    /// The JSON form of a box parameter.
    public static func value(_ box: Box2I) -> JSONValue {
        .array([.int(Int64(box.min.x)), .int(Int64(box.min.y)), .int(Int64(box.max.x)), .int(Int64(box.max.y))])
    }

    /// Reads `bbox` and `origin`, rejecting anything else.
    static func parse(_ parameters: ReadParameters, formatter: String, path: String) throws -> (Box2I?, ImageOrigin) {
        func bad(_ reason: String) -> FormatterError {
            FormatterError(formatter: formatter, path: path, operation: "read", reason: reason)
        }
        let unknown = Set(parameters.keys).subtracting(["bbox", "origin"])
        if !unknown.isEmpty { throw bad("unknown read parameters: \(unknown.sorted().joined(separator: ", ")); known: bbox, origin") }
        var box: Box2I?
        if let value = parameters["bbox"] {
            guard let corners = value.arrayValue?.compactMap(\.intValue), corners.count == 4 else {
                throw bad("bbox must be [x0, y0, x1, y1] (inclusive corners), got \(value)")
            }
            box = Box2I(x0: Int(corners[0]), y0: Int(corners[1]), x1: Int(corners[2]), y1: Int(corners[3]))
        }
        var origin = ImageOrigin.parent
        if let value = parameters["origin"] {
            guard let text = value.stringValue, let parsed = ImageOrigin(rawValue: text) else {
                throw bad("origin must be 'parent' or 'local', got \(value)")
            }
            origin = parsed
        }
        return (box, origin)
    }
}

/// A formatter for `Exposure` files: it says how to write and read one pixel type, and the
/// extension below supplies the type dispatch and parameter handling shared by FITS and HDF5.
public protocol ExposureFileFormatter: FileFormatter {
    /// Writes an exposure to `path`.
    func writeExposure<P: FITSPixel>(_ exposure: Exposure<P>, to path: String) throws
    /// Reads an exposure (or the part in `bbox`) from `path`.
    func readExposure<P: FITSPixel>(_ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> Exposure<P>
    /// Reads one component, touching only the headers, tables or plane it needs.
    func readExposureComponent<P: FITSPixel>(_ type: P.Type, _ component: String, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> any Sendable
}

/// Runs generic work for the pixel type of an Exposure storage class.
private protocol PixelVisitor {
    func visit<P: FITSPixel>(_ type: P.Type) throws -> any Sendable
}

/// Reads a whole exposure of the visited pixel type.
private struct WholeExposure<F: ExposureFileFormatter>: PixelVisitor {
    let formatter: F, path: String, box: Box2I?, origin: ImageOrigin
    func visit<P: FITSPixel>(_ type: P.Type) throws -> any Sendable {
        try formatter.readExposure(P.self, from: path, bbox: box, origin: origin)
    }
}

/// Reads one component of an exposure of the visited pixel type.
private struct ExposurePart<F: ExposureFileFormatter>: PixelVisitor {
    let formatter: F, component: String, path: String, box: Box2I?, origin: ImageOrigin
    func visit<P: FITSPixel>(_ type: P.Type) throws -> any Sendable {
        try formatter.readExposureComponent(P.self, component, from: path, bbox: box, origin: origin)
    }
}

private func visitPixel(_ storageClass: StorageClass, formatter: String, path: String, _ visitor: some PixelVisitor) throws -> any Sendable {
    switch ObjectIdentifier(storageClass.inMemoryType) {
    case ObjectIdentifier(Exposure<Float>.self): return try visitor.visit(Float.self)
    case ObjectIdentifier(Exposure<Double>.self): return try visitor.visit(Double.self)
    case ObjectIdentifier(Exposure<Int32>.self): return try visitor.visit(Int32.self)
    case ObjectIdentifier(Exposure<UInt16>.self): return try visitor.visit(UInt16.self)
    case ObjectIdentifier(Exposure<UInt8>.self): return try visitor.visit(UInt8.self)
    default:
        throw FormatterError(formatter: formatter, path: path, operation: "read",
                             reason: "storage class \(storageClass.name) holds \(storageClass.inMemoryType), not an Exposure")
    }
}

extension ExposureFileFormatter {
    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        switch value {
        case let exposure as Exposure<Float>: try writeExposure(exposure, to: url.path)
        case let exposure as Exposure<Double>: try writeExposure(exposure, to: url.path)
        case let exposure as Exposure<Int32>: try writeExposure(exposure, to: url.path)
        case let exposure as Exposure<UInt16>: try writeExposure(exposure, to: url.path)
        case let exposure as Exposure<UInt8>: try writeExposure(exposure, to: url.path)
        default:
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(type(of: value)) is not an Exposure")
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        return try visitPixel(storageClass, formatter: name, path: url.path,
                              WholeExposure(formatter: self, path: url.path, box: box, origin: origin))
    }

    public func readComponent(_ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        return try visitPixel(storageClass, formatter: name, path: url.path,
                              ExposurePart(formatter: self, component: component, path: url.path, box: box, origin: origin))
    }

    /// Reads a `[width, height]` write parameter.
    func extentParameter(_ value: JSONValue, named key: String) throws -> Extent2I {
        guard let dims = value.arrayValue?.compactMap(\.intValue), dims.count == 2, dims.allSatisfy({ $0 > 0 }) else {
            throw FormatterError(formatter: name, path: "", operation: "configure", reason: "\(key) must be [width, height], got \(value)")
        }
        return Extent2I(Int(dims[0]), Int(dims[1]))
    }

    /// Rejects write parameters other than `known`.
    func requireKnown(_ parameters: [String: JSONValue], _ known: Set<String>) throws {
        let unknown = Set(parameters.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw FormatterError(formatter: name, path: "", operation: "configure",
                                 reason: "unknown write parameters \(unknown.sorted()); known: \(known.sorted().joined(separator: ", "))")
        }
    }
}

/// Limits on values read from files, so that a corrupted header cannot make a reader allocate
/// absurd amounts of memory or overflow an integer conversion.
enum FileLimits {
    /// The largest image axis accepted (pixels).
    static let maxAxis = 1 << 20
    /// The largest |xy0| coordinate accepted.
    static let maxOrigin = 1 << 40
    /// The largest SIP order accepted.
    static let maxSIPOrder = 20

    /// `value` as an Int if it is finite, integral and inside `range`.
    static func int(_ value: Double?, in range: ClosedRange<Int>) -> Int? {
        guard let value, value.isFinite, value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            return nil
        }
        return Int(value)
    }

    /// `value` as an Int if inside `range`.
    static func int(_ value: Int64?, in range: ClosedRange<Int>) -> Int? {
        guard let value, value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else { return nil }
        return Int(value)
    }
}

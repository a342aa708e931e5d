public import Composites

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

/// Calls `body` with the pixel type of an `Exposure` storage class's in-memory type.
func withExposurePixel<R>(_ type: Any.Type, formatter: String, path: String, _ body: (any FITSPixel.Type) throws -> R) throws -> R {
    switch ObjectIdentifier(type) {
    case ObjectIdentifier(Exposure<Float>.self): return try body(Float.self)
    case ObjectIdentifier(Exposure<Double>.self): return try body(Double.self)
    case ObjectIdentifier(Exposure<Int32>.self): return try body(Int32.self)
    case ObjectIdentifier(Exposure<UInt16>.self): return try body(UInt16.self)
    case ObjectIdentifier(Exposure<UInt8>.self): return try body(UInt8.self)
    default:
        throw FormatterError(formatter: formatter, path: path, operation: "read", reason: "\(type) is not an Exposure type")
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

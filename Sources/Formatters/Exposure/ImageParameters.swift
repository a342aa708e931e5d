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
            FormatterError(formatter: formatter, path: path, operation: "read", kind: .invalidRequest, reason: reason)
        }
        let unknown = Set(parameters.keys).subtracting(["bbox", "origin"])
        if !unknown.isEmpty { throw bad("unknown read parameters: \(unknown.sorted().joined(separator: ", ")); known: bbox, origin") }
        var box: Box2I?
        if let value = parameters["bbox"] {
            guard let corners = value.arrayValue?.compactMap(\.intValue), corners.count == 4 else {
                throw bad("bbox must be [x0, y0, x1, y1] (inclusive corners), got \(value)")
            }
            // Bounded like a file's xy0, so that box arithmetic cannot overflow.
            let limited = corners.compactMap { FileLimits.int($0, in: -FileLimits.maxOrigin...FileLimits.maxOrigin) }
            guard limited.count == 4 else { throw bad("bbox corners must lie within ±\(FileLimits.maxOrigin), got \(value)") }
            box = Box2I(x0: limited[0], y0: limited[1], x1: limited[2], y1: limited[3])
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

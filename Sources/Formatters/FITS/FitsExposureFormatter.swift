public import Composites
public import Foundation

/// Exposures as afw-layout multi-extension FITS; cutouts read only the tiles they touch.
///
/// Write parameters (repository configuration): `compression` (`none`, `gzip`, `rice`) and
/// `tile` (`[width, height]`, default 256 × 256).
public struct FitsExposureFormatter: ExposureFileFormatter {
    /// How planes are written.
    public let compression: FITSCompression

    /// A formatter writing with `compression`.
    public init(compression: FITSCompression = .none) { self.compression = compression }

    public var name: String { "FitsExposureFormatter" }
    public var defaultExtension: String { ".fits" }
    public var readableExtensions: [String] { [".fits", ".fit", ".fz"] }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        FitsExposureFormatter(compression: try compression(configuredBy: parameters))
    }

    /// This formatter's compression changed by the write parameters `compression` and `tile`
    /// (shared with ``FitsImageFormatter``, which writes planes the same way).
    func compression(configuredBy parameters: [String: JSONValue]) throws -> FITSCompression {
        try requireKnown(parameters, ["compression", "tile"])
        var compression = self.compression
        if let value = parameters["compression"] {
            guard let text = value.stringValue, let algorithm = FITSCompression.Algorithm(rawValue: text) else {
                throw FormatterError(
                    formatter: name, path: "", operation: "configure", reason: "compression must be none, gzip or rice, got \(value)")
            }
            compression.algorithm = algorithm
        }
        if let value = parameters["tile"] { compression.tile = try extentParameter(value, named: "tile") }
        return compression
    }

    public func byteLayout(of url: URL) throws -> ByteLayout? { try ByteLayout.fits(at: url.path) }

    public func metadataRanges(fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]) throws -> [Range<Int64>]? {
        try FITSHeaderWalk.metadataRanges(fileSize: fileSize, path: path, read: read)
    }

    public func writeExposure<P: ImagePixel>(_ exposure: Exposure<P>, to path: String) throws {
        try ExposureFITS.write(exposure, to: path, compression: compression)
    }

    public func readExposure<P: ImagePixel>(_ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> Exposure<P> {
        try ExposureFITS.read(P.self, from: path, bbox: bbox, origin: origin)
    }

    public func readExposureComponent<P: ImagePixel>(
        _ type: P.Type, _ component: String, from path: String, bbox: Box2I?, origin: ImageOrigin
    ) throws -> any Sendable {
        try ExposureFITS.readComponent(P.self, component, from: path, bbox: bbox, origin: origin)
    }
}

public import Composites
public import Foundation

/// Exposures as afw-layout multi-extension FITS; cutouts read only the tiles they touch.
///
/// Write parameters (repository configuration): `compression` (`none`, `gzip`, `rice`) and
/// `tile` (`[width, height]`, default 256 × 256).
public struct FitsExposureFormatter: FileFormatter {
    /// How planes are written.
    public let compression: FITSCompression

    /// A formatter writing with `compression`.
    public init(compression: FITSCompression = .none) { self.compression = compression }

    public var name: String { "FitsExposureFormatter" }
    public var defaultExtension: String { ".fits" }
    public var readableExtensions: [String] { [".fits", ".fit", ".fz"] }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        let unknown = Set(parameters.keys).subtracting(["compression", "tile"])
        guard unknown.isEmpty else {
            throw FormatterError(formatter: name, path: "", operation: "configure", reason: "unknown write parameters \(unknown.sorted()); known: compression, tile")
        }
        var compression = self.compression
        if let value = parameters["compression"] {
            guard let text = value.stringValue, let algorithm = FITSCompression.Algorithm(rawValue: text) else {
                throw FormatterError(formatter: name, path: "", operation: "configure", reason: "compression must be none, gzip or rice, got \(value)")
            }
            compression.algorithm = algorithm
        }
        if let value = parameters["tile"] {
            guard let dims = value.arrayValue?.compactMap(\.intValue), dims.count == 2, dims.allSatisfy({ $0 > 0 }) else {
                throw FormatterError(formatter: name, path: "", operation: "configure", reason: "tile must be [width, height], got \(value)")
            }
            compression.tile = Extent2I(Int(dims[0]), Int(dims[1]))
        }
        return FitsExposureFormatter(compression: compression)
    }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        func write<P: FITSPixel>(_ exposure: Exposure<P>) throws {
            try ExposureFITS.write(exposure, to: url.path, compression: compression)
        }
        switch value {
        case let exposure as Exposure<Float>: try write(exposure)
        case let exposure as Exposure<Double>: try write(exposure)
        case let exposure as Exposure<Int32>: try write(exposure)
        case let exposure as Exposure<UInt16>: try write(exposure)
        case let exposure as Exposure<UInt8>: try write(exposure)
        default:
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(type(of: value)) is not an Exposure")
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        return try withExposurePixel(storageClass.inMemoryType, formatter: name, path: url.path) { pixel in
            func read<P: FITSPixel>(_ type: P.Type) throws -> any Sendable {
                try ExposureFITS.read(P.self, from: url.path, bbox: box, origin: origin)
            }
            return try read(pixel)
        }
    }
}

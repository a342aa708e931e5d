public import Composites
public import Foundation

/// Exposures as HDF5 (h5py-readable); cutouts are hyperslab reads touching only their chunks.
///
/// Write parameters (repository configuration): `chunk` (`[width, height]`, default 256 × 256)
/// and `deflate` (level 1–9; shuffle is applied with it).
public struct HDF5ExposureFormatter: FileFormatter {
    /// How planes are written.
    public let layout: HDF5Layout

    /// A formatter writing with `layout`.
    public init(layout: HDF5Layout = HDF5Layout()) { self.layout = layout }

    public var name: String { "HDF5ExposureFormatter" }
    public var defaultExtension: String { ".h5" }
    public var readableExtensions: [String] { [".h5", ".hdf5", ".hdf"] }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        let unknown = Set(parameters.keys).subtracting(["chunk", "deflate"])
        guard unknown.isEmpty else {
            throw FormatterError(formatter: name, path: "", operation: "configure", reason: "unknown write parameters \(unknown.sorted()); known: chunk, deflate")
        }
        var layout = self.layout
        if let value = parameters["chunk"] {
            guard let dims = value.arrayValue?.compactMap(\.intValue), dims.count == 2, dims.allSatisfy({ $0 > 0 }) else {
                throw FormatterError(formatter: name, path: "", operation: "configure", reason: "chunk must be [width, height], got \(value)")
            }
            layout.chunk = Extent2I(Int(dims[0]), Int(dims[1]))
        }
        if let value = parameters["deflate"] {
            guard let level = value.intValue, (0...9).contains(level) else {
                throw FormatterError(formatter: name, path: "", operation: "configure", reason: "deflate must be 0–9, got \(value)")
            }
            layout.deflate = level == 0 ? nil : Int(level)
        }
        return HDF5ExposureFormatter(layout: layout)
    }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        func write<P: FITSPixel>(_ exposure: Exposure<P>) throws {
            try ExposureHDF5.write(exposure, to: url.path, layout: layout)
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
                try ExposureHDF5.read(P.self, from: url.path, bbox: box, origin: origin)
            }
            return try read(pixel)
        }
    }
}

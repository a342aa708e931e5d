public import Composites
public import Foundation

/// Exposures as HDF5 (h5py-readable); cutouts are hyperslab reads touching only their chunks.
///
/// Write parameters (repository configuration): `chunk` (`[width, height]`, default 256 × 256)
/// and `deflate` (level 1–9; shuffle is applied with it).
public struct HDF5ExposureFormatter: ExposureFileFormatter {
    /// How planes are written.
    public let layout: HDF5Layout

    /// A formatter writing with `layout`.
    public init(layout: HDF5Layout = HDF5Layout()) { self.layout = layout }

    public func byteLayout(of url: URL) throws -> ByteLayout? { try ExposureHDF5.byteLayout(of: url.path) }

    public var name: String { "HDF5ExposureFormatter" }
    public var defaultExtension: String { ".h5" }
    public var readableExtensions: [String] { [".h5", ".hdf5", ".hdf"] }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        try requireKnown(parameters, ["chunk", "deflate"])
        var layout = self.layout
        if let value = parameters["chunk"] { layout.chunk = try extentParameter(value, named: "chunk") }
        if let value = parameters["deflate"] {
            guard let level = value.intValue, (0...9).contains(level) else {
                throw FormatterError(formatter: name, path: "", operation: "configure", reason: "deflate must be 0–9, got \(value)")
            }
            layout.deflate = level == 0 ? nil : Int(level)
        }
        return HDF5ExposureFormatter(layout: layout)
    }

    public func writeExposure<P: ImagePixel>(_ exposure: Exposure<P>, to path: String) throws {
        try ExposureHDF5.write(exposure, to: path, layout: layout)
    }

    public func readExposure<P: ImagePixel>(_ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> Exposure<P> {
        try ExposureHDF5.read(P.self, from: path, bbox: bbox, origin: origin)
    }

    public func readExposureComponent<P: ImagePixel>(
        _ type: P.Type, _ component: String, from path: String, bbox: Box2I?, origin: ImageOrigin
    ) throws -> any Sendable {
        try ExposureHDF5.readComponent(P.self, component, from: path, bbox: bbox, origin: origin)
    }
}

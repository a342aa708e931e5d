public import Composites
public import Foundation

/// A formatter for `Exposure` files: it says how to write and read one pixel type, and the
/// extension below supplies the pixel dispatch and parameter handling shared by FITS and HDF5.
public protocol ExposureFileFormatter: FileFormatter {
    /// Writes an exposure to `path`.
    func writeExposure<P: ImagePixel>(_ exposure: Exposure<P>, to path: String) throws
    /// Reads an exposure (or the part in `bbox`) from `path`.
    func readExposure<P: ImagePixel>(_ type: P.Type, from path: String, bbox: Box2I?, origin: ImageOrigin) throws -> Exposure<P>
    /// Reads one component, touching only the headers, tables or plane it needs.
    func readExposureComponent<P: ImagePixel>(
        _ type: P.Type, _ component: String, from path: String, bbox: Box2I?, origin: ImageOrigin
    ) throws -> any Sendable
}

extension ExposureFileFormatter {
    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        guard let exposure = value as? any AnyExposure else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "write", kind: .typeMismatch, reason: "\(type(of: value)) is not an Exposure")
        }
        try writeOpened(exposure, to: url.path)
    }

    private func writeOpened<E: AnyExposure>(_ value: E, to path: String) throws {
        try writeExposure(value.exposure, to: path)
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        return try readOpened(try exposureType(of: storageClass, path: url.path), component: nil, from: url.path, bbox: box, origin: origin)
    }

    public func readComponent(
        _ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> any Sendable {
        let (box, origin) = try ImageParameters.parse(parameters, formatter: name, path: url.path)
        return try readOpened(
            try exposureType(of: storageClass, path: url.path), component: component, from: url.path, bbox: box, origin: origin)
    }

    public func partialNeed(component: String?, parameters: ReadParameters) -> ByteLayout.Need? {
        ByteLayout.need(component: component, parameters: parameters, pixelComponents: ["image", "mask", "variance", "maskedImage"])
    }

    /// The Exposure type a storage class holds.
    private func exposureType(of storageClass: StorageClass, path: String) throws -> any AnyExposure.Type {
        guard let exposureType = storageClass.inMemoryType as? any AnyExposure.Type else {
            throw FormatterError(
                formatter: name, path: path, operation: "read", kind: .typeMismatch,
                reason: "storage class \(storageClass.name) holds \(storageClass.inMemoryType), not an Exposure")
        }
        return exposureType
    }

    /// Reads with the pixel type of `E` (the storage class's Exposure type, opened).
    private func readOpened<E: AnyExposure>(
        _ type: E.Type, component: String?, from path: String, bbox: Box2I?, origin: ImageOrigin
    ) throws -> any Sendable {
        guard let component else { return try readExposure(E.Pixel.self, from: path, bbox: bbox, origin: origin) }
        return try readExposureComponent(E.Pixel.self, component, from: path, bbox: bbox, origin: origin)
    }

    /// Reads a `[width, height]` write parameter.
    func extentParameter(_ value: JSONValue, named key: String) throws -> Extent2I {
        guard let dims = value.arrayValue?.compactMap(\.intValue), dims.count == 2, dims.allSatisfy({ $0 > 0 }) else {
            throw FormatterError(
                formatter: name, path: "", operation: "configure", kind: .invalidRequest,
                reason: "\(key) must be [width, height], got \(value)")
        }
        return Extent2I(Int(dims[0]), Int(dims[1]))
    }

    /// Rejects write parameters other than `known`.
    func requireKnown(_ parameters: [String: JSONValue], _ known: Set<String>) throws {
        let unknown = Set(parameters.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw FormatterError(
                formatter: name, path: "", operation: "configure", kind: .invalidRequest,
                reason: "unknown write parameters \(unknown.sorted()); known: \(known.sorted().joined(separator: ", "))")
        }
    }
}

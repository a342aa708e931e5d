import Foundation
import Synchronization

/// The storage classes a repository knows, by name.
///
/// Built-in classes are present from the start; code may add its own at run time. Access is
/// serialised by a mutex so one registry can be shared by every task of a process.
public final class StorageClassRegistry: Sendable {
    private let classes: Mutex<[String: StorageClass]>

    /// A registry holding the built-in storage classes.
    public init() {
        classes = Mutex(
            Dictionary(
                uniqueKeysWithValues: StorageClassRegistry.builtIn.map { ($0.name, $0) }))
    }

    /// The storage classes every repository has, named as in daf_butler where it has a name.
    public static let builtIn: [StorageClass] = [
        StorageClass(
            name: "StructuredDataDict", type: [String: JSONValue].self,
            doc: "A dictionary of structured values (metrics, configuration summaries).",
            converters: [
                TypeConverter(from: [String: JSONValue].self, to: JSONValue.self) { .object($0) },
                TypeConverter(from: [String: JSONValue].self, to: String.self) { try jsonText(.object($0)) },
            ]),
        StorageClass(
            name: "StructuredDataList", type: [JSONValue].self,
            doc: "A list of structured values."),
        StorageClass(
            name: "StructuredData", type: JSONValue.self,
            doc: "Any JSON-shaped value, or any Codable value read back with `as:`."),
        StorageClass(
            name: "Bytes", type: Data.self,
            doc: "Opaque bytes stored verbatim (PNG plots, logs, archives).",
            converters: [
                TypeConverter(from: Data.self, to: [UInt8].self) { [UInt8]($0) },
                TypeConverter(from: Data.self, to: String.self) { String(decoding: $0, as: UTF8.self) },
            ]),
        exposure("Exposure", Float.self),
        exposure("ExposureF", Float.self),
        exposure("ExposureD", Double.self),
        exposure("ExposureI", Int32.self),
        exposure("ExposureU", UInt16.self),
        image("ImageF", Float.self), image("ImageD", Double.self), image("ImageI", Int32.self), image("ImageU", UInt16.self),
        StorageClass(name: "Mask", opaqueType: Mask.self, parameters: ["bbox", "origin"], doc: "Integer mask bits with named planes."),
        StorageClass(
            name: "MaskedImageF", opaqueType: MaskedImage<Float>.self, parameters: ["bbox", "origin"], doc: "Image, mask and variance."),
        StorageClass(name: "Wcs", type: Wcs.self, doc: "A TAN, TAN-SIP or STG celestial WCS in parent pixel coordinates."),
        StorageClass(name: "Psf", type: Psf.self, doc: "A Gaussian or kernel-image point-spread function."),
        StorageClass(name: "PhotoCalib", type: PhotoCalib.self, doc: "Photometric calibration (nJy per count)."),
        StorageClass(name: "VisitInfo", type: VisitInfo.self, doc: "What was observed and how."),
        StorageClass(name: "PropertyList", type: Metadata.self, doc: "Ordered header cards."),
        StorageClass(name: "Box2I", type: Box2I.self, doc: "An integer box with inclusive corners."),
        StorageClass(name: "Extent2I", type: Extent2I.self, doc: "An integer size."),
        StorageClass(name: "Point2I", type: Point2I.self, doc: "An integer position."),
        StorageClass(name: "Columns", type: [String: [Double]].self, doc: "Named columns of numbers."),
        StorageClass(
            name: "ReferenceCatalog", type: SourceCatalog.self,
            doc: "A shard of a reference catalog: columns of numbers (ra, dec in degrees, fluxes…), one sky pixel's rows.",
            converters: [TypeConverter(from: SourceCatalog.self, to: [String: [Double]].self) { $0.columns }]),
        StorageClass(
            name: "SourceCatalog", type: SourceCatalog.self,
            components: ["columns": "Columns", "photoCalib": "PhotoCalib"],
            doc: "Measured sources: columns of numbers, with the photometric calibration when known.",
            assembler: CatalogAssembler(),
            converters: [
                TypeConverter(from: SourceCatalog.self, to: [String: [Double]].self) { $0.columns },
                TypeConverter(from: SourceCatalog.self, to: CalibratedCatalog.self) { catalog in
                    guard let photoCalib = catalog.photoCalib else {
                        throw StorageClassError.absentComponent("photoCalib", storageClass: "SourceCatalog")
                    }
                    return CalibratedCatalog(catalog, photoCalib: photoCalib)
                },
            ]),
    ]

    /// An exposure storage class: components as afw's, cutouts through `bbox` and `origin`.
    private static func exposure<P: PixelValue>(_ name: String, _ pixel: P.Type) -> StorageClass {
        let imageClass = ["Float32": "ImageF", "Float64": "ImageD", "Int32": "ImageI", "UInt16": "ImageU"][P.pixelTypeName] ?? "ImageF"
        return StorageClass(
            name: name, opaqueType: Exposure<P>.self,
            components: [
                "image": imageClass, "mask": "Mask", "variance": "ImageF", "wcs": "Wcs", "psf": "Psf",
                "photoCalib": "PhotoCalib", "visitInfo": "VisitInfo", "metadata": "PropertyList",
            ],
            derivedComponents: ["bbox": "Box2I", "dimensions": "Extent2I", "xy0": "Point2I", "maskedImage": "MaskedImageF"],
            parameters: ["bbox", "origin"],
            doc: "An image with mask, variance, WCS, PSF, calibration and visit information (\(P.pixelTypeName) pixels).",
            assembler: ExposureAssembler<P>(storageClass: name),
            converters: [
                TypeConverter(from: Exposure<P>.self, to: MaskedImage<P>.self) { $0.maskedImage },
                TypeConverter(from: Exposure<P>.self, to: Image<P>.self) { $0.image },
                TypeConverter(from: Exposure<P>.self, to: PixelArray<P>.self) { PixelArray($0.image) },
            ])
    }

    private static func image<P: PixelValue>(_ name: String, _ pixel: P.Type) -> StorageClass {
        StorageClass(
            name: name, type: Image<P>.self, parameters: ["bbox", "origin"], doc: "A \(P.pixelTypeName) image.",
            converters: [TypeConverter(from: Image<P>.self, to: PixelArray<P>.self) { PixelArray($0) }])
    }

    /// Compact JSON text with sorted keys.
    private static func jsonText(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The storage class called `name`.
    /// - Throws: ``StorageClassError/unknown(_:known:)`` naming the known classes.
    public func storageClass(named name: String) throws -> StorageClass {
        if let found = classes.withLock({ $0[name] }) { return found }
        throw StorageClassError.unknown(name, known: names)
    }

    /// Adds a storage class, or replaces one of the same name that has the same Swift type.
    /// - Throws: ``StorageClassError/conflict(_:existing:new:)`` when the name is taken by
    ///   a class with another Swift type.
    public func register(_ storageClass: StorageClass) throws {
        try classes.withLock { table in
            if let existing = table[storageClass.name],
                existing.inMemoryType != storageClass.inMemoryType
            {
                throw StorageClassError.conflict(
                    storageClass.name, existing: "\(existing.inMemoryType)",
                    new: "\(storageClass.inMemoryType)")
            }
            table[storageClass.name] = storageClass
        }
    }

    /// Every known storage class name, sorted.
    public var names: [String] { classes.withLock { $0.keys.sorted() } }
}

/// Problems finding or defining storage classes.
public enum StorageClassError: Error, CustomStringConvertible, Equatable {
    /// No storage class has this name.
    case unknown(String, known: [String])
    /// The name is already used by a storage class with a different Swift type.
    case conflict(String, existing: String, new: String)
    /// The storage class has no component of this name.
    case unknownComponent(String, storageClass: String, known: [String])
    /// The component exists in the storage class but this value does not have it.
    case absentComponent(String, storageClass: String)
    /// A value of another type was handed to the storage class.
    case wrongType(String, expected: String, got: String)

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            return "unknown storage class '\(name)'; known: \(known.joined(separator: ", "))"
        case .conflict(let name, let existing, let new):
            return "storage class '\(name)' is already defined with type \(existing); cannot redefine it with type \(new)"
        case .unknownComponent(let component, let storageClass, let known):
            return "storage class \(storageClass) has no component '\(component)'"
                + (known.isEmpty ? "" : "; components: \(known.joined(separator: ", "))")
        case .absentComponent(let component, let storageClass):
            return "this \(storageClass) has no \(component) (the component is not set)"
        case .wrongType(let storageClass, let expected, let got):
            return "storage class \(storageClass) holds \(expected), not \(got)"
        }
    }
}

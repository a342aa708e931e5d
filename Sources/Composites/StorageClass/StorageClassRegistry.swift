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
        classes = Mutex(Dictionary(
            uniqueKeysWithValues: StorageClassRegistry.builtIn.map { ($0.name, $0) }))
    }

    /// The storage classes every repository has, named as in daf_butler where it has a name.
    public static let builtIn: [StorageClass] = [
        StorageClass(
            name: "StructuredDataDict", type: [String: JSONValue].self,
            doc: "A dictionary of structured values (metrics, configuration summaries)."),
        StorageClass(
            name: "StructuredDataList", type: [JSONValue].self,
            doc: "A list of structured values."),
        StorageClass(
            name: "StructuredData", type: JSONValue.self,
            doc: "Any JSON-shaped value, or any Codable value read back with `as:`."),
        StorageClass(
            name: "Bytes", type: Data.self,
            doc: "Opaque bytes stored verbatim (PNG plots, logs, archives)."),
        exposure("Exposure", Float.self),
        exposure("ExposureF", Float.self),
        exposure("ExposureD", Double.self),
        exposure("ExposureI", Int32.self),
        exposure("ExposureU", UInt16.self),
    ]

    /// An exposure storage class: cutouts through the `bbox` and `origin` parameters.
    private static func exposure<P: PixelValue>(_ name: String, _ pixel: P.Type) -> StorageClass {
        StorageClass(
            name: name, opaqueType: Exposure<P>.self, parameters: ["bbox", "origin"],
            doc: "An image with mask, variance, WCS, PSF, calibration and visit information (\(P.pixelTypeName) pixels).")
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

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            return "unknown storage class '\(name)'; known: \(known.joined(separator: ", "))"
        case .conflict(let name, let existing, let new):
            return "storage class '\(name)' is already defined with type \(existing); cannot redefine it with type \(new)"
        }
    }
}

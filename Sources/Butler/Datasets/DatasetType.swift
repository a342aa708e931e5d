/// A kind of dataset: name, dimensions and storage class (`calexp {instrument, visit,
/// detector} Exposure`). Component types are written `parent.component` (`calexp.wcs`).
///
/// Immutable; a class so that the thousands of refs a query returns share one instance.
public final class DatasetType: Sendable, Hashable, CustomStringConvertible {
    /// Full name, including a `.component` suffix for component types.
    public let name: String
    /// The dimensions whose values identify one dataset of this type.
    public let dimensions: DimensionGroup
    /// The name of the storage class describing the in-memory type.
    public let storageClassName: String
    /// Whether datasets of this type may live in CALIBRATION collections with validity ranges.
    public let isCalibration: Bool

    /// Creates a dataset type definition (register it with ``Butler/registerDatasetType(_:)``).
    public init(name: String, dimensions: DimensionGroup, storageClass: String, isCalibration: Bool = false) {
        self.name = name
        self.dimensions = dimensions
        self.storageClassName = storageClass
        self.isCalibration = isCalibration
    }

    public static func == (lhs: DatasetType, rhs: DatasetType) -> Bool {
        lhs === rhs
            || (lhs.name == rhs.name && lhs.dimensions == rhs.dimensions
                && lhs.storageClassName == rhs.storageClassName && lhs.isCalibration == rhs.isCalibration)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
    }

    /// The parent name (`calexp` for `calexp.wcs`).
    public var parentName: String { name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name }
    /// The component name, for component types.
    public var component: String? {
        let parts = name.split(separator: ".", maxSplits: 1)
        return parts.count == 2 ? String(parts[1]) : nil
    }

    /// `calexp {instrument, visit, detector} StructuredDataDict`.
    public var description: String {
        "\(name) \(dimensions) \(storageClassName)" + (isCalibration ? " (calibration)" : "")
    }

    /// Checks that a dataset type name is legal: letters, digits and `_`, starting with a
    /// letter, with at most one `.component` suffix.
    static func validate(name: String) throws {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !parts.isEmpty && parts.count <= 2
            && parts.allSatisfy { part in
                guard let first = part.first, first.isLetter, first.isASCII else { return false }
                return part.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
            }
        if !valid {
            throw ButlerError.configuration(
                "invalid dataset type name '\(name)': use letters, digits and '_' starting with a letter, with an optional '.component'")
        }
    }
}

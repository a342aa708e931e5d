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
    /// Values taken from each dataset at put or ingest and kept in the registry, so that
    /// queries can use them (`calexp.seeing < 0.8`). Not part of the type's identity: a type
    /// may gain fields after datasets of it exist.
    public let fields: [DatasetField]

    /// Creates a dataset type definition (register it with ``Butler/registerDatasetType(_:)``).
    public init(
        name: String, dimensions: DimensionGroup, storageClass: String, isCalibration: Bool = false, fields: [DatasetField] = []
    ) {
        self.name = name
        self.dimensions = dimensions
        self.storageClassName = storageClass
        self.isCalibration = isCalibration
        self.fields = fields
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

    /// The declared field called `name`, if any.
    public func field(named name: String) -> DatasetField? { fields.first { $0.name == name } }

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

/// A value every dataset of a type carries in the registry, taken from the dataset itself
/// when it is put or ingested: a key of a metrics dictionary, a FITS header keyword of an
/// Exposure's metadata, a field of its visitInfo or PSF.
///
/// `source` is a dotted path into the in-memory dataset: its first step may name a component
/// of the storage class (`metadata`, `visitInfo`, `psf`), then keys of that value (`metadata.SEEING`,
/// `visitInfo.boresightAirmass`, `stats.background`); by default the field's own name.
public struct DatasetField: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field's name, used in queries as `datasetType.name`.
    public let name: String
    /// Its type: int, float, string or bool.
    public let type: FieldType
    /// Where in the dataset the value comes from.
    public let source: String

    /// A field of `type` taken from `source` (its own name when nil).
    /// - Throws: ``ButlerError/Code/configuration`` for a name that is not an identifier, a
    ///   region type, or an empty source.
    public init(name: String, type: FieldType, source: String? = nil) throws {
        let valid =
            name.first.map { $0.isLetter && $0.isASCII } == true
            && name.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
        guard valid else {
            throw ButlerError.configuration("invalid dataset field name '\(name)': use letters, digits and '_' starting with a letter")
        }
        guard type != .region else { throw ButlerError.configuration("dataset field \(name): a field is an int, float, string or bool") }
        let source = source ?? name
        guard !source.isEmpty, !source.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw ButlerError.configuration("dataset field \(name): source '\(source)' is not a dotted path")
        }
        self.name = name
        self.type = type
        self.source = source
    }

    /// Reads `NAME:TYPE[=SOURCE]` (`seeing:float=metadata.SEEING`), as `register-dataset-type --field` takes it.
    public init(parsing text: String) throws {
        let (head, source) =
            text.firstIndex(of: "=").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) } ?? (text, nil)
        let parts = head.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let type = FieldType(rawValue: parts[1].lowercased()) else {
            throw ButlerError.configuration("dataset field '\(text)' is not NAME:TYPE[=SOURCE] with TYPE int, float, string or bool")
        }
        try self.init(name: parts[0], type: type, source: source)
    }

    /// `seeing:float=metadata.SEEING`.
    public var description: String { "\(name):\(type.rawValue)" + (source == name ? "" : "=\(source)") }
}

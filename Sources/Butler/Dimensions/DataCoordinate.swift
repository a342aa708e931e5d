import Foundation

/// The value of one dimension in a data ID: an integer (`visit: 903334`) or a string
/// (`instrument: "HSC"`).
public enum DataIdValue: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByStringLiteral
{
    /// An integer key such as a visit or detector number.
    case int(Int64)
    /// A string key such as an instrument or filter name.
    case string(String)

    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int64.self) {
            self = .int(int)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }

    /// The value as written in paths and UUID names: `903334`, `HSC`.
    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return value
        }
    }

    /// The integer, if this is one.
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    public static func < (lhs: DataIdValue, rhs: DataIdValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a < b
        case (.string(let a), .string(let b)): return a < b
        case (.int, .string): return true
        case (.string, .int): return false
        }
    }
}

/// A data ID as a caller writes it: dimension name (or alias) → value.
public typealias DataId = [String: DataIdValue]

/// A standardized data ID: values for every required dimension of a ``DimensionGroup`` and,
/// once expanded, for its implied dimensions too.
public struct DataCoordinate: Sendable, Hashable, CustomStringConvertible {
    /// The dimensions this data ID identifies.
    public let dimensions: DimensionGroup
    /// Values aligned with `dimensions.names`: every required value, then implied values or
    /// nil. An array, not a dictionary: queries build thousands of these.
    private let storage: [DataIdValue?]

    /// Creates a data coordinate from values by name; callers go through
    /// ``DimensionUniverse/standardize(_:for:context:)``.
    init(dimensions: DimensionGroup, values: [String: DataIdValue]) {
        self.dimensions = dimensions
        self.storage = dimensions.names.map { values[$0] }
    }

    /// Creates a data coordinate from the required values, in `dimensions.required` order,
    /// given as optionals (none nil) so that a query building thousands of these passes its
    /// array on as it is: converting `[DataIdValue]` to `[DataIdValue?]` casts each element.
    init(dimensions: DimensionGroup, requiredValues: [DataIdValue?]) {
        self.dimensions = dimensions
        var storage = requiredValues
        if !dimensions.implied.isEmpty { storage.append(contentsOf: repeatElement(nil, count: dimensions.implied.count)) }
        self.storage = storage
    }

    /// Orders data IDs of the same dimensions by their required values, without copying them.
    func requiredValuesPrecede(_ other: DataCoordinate) -> Bool {
        let count = dimensions.required.count
        for index in 0..<count {
            // Required values are never nil (every initialiser fills them).
            let lhs = storage[index]!
            let rhs = other.storage[index]!
            if lhs != rhs { return lhs < rhs }
        }
        return false
    }

    /// Values by dimension name: all required ones, and implied ones when expanded.
    public var values: [String: DataIdValue] {
        var result: [String: DataIdValue] = [:]
        for (name, value) in zip(dimensions.names, storage) { if let value { result[name] = value } }
        return result
    }

    /// The value of `dimension`, if known.
    public subscript(dimension: String) -> DataIdValue? {
        guard let index = dimensions.names.firstIndex(of: dimension) else { return nil }
        return storage[index]
    }

    /// Required dimension values, in universe order.
    public var required: [(name: String, value: DataIdValue)] {
        zip(dimensions.required, storage).map { ($0, $1!) }
    }

    /// The required values alone, in `dimensions.required` order.
    public var requiredValues: ArraySlice<DataIdValue?> { storage.prefix(dimensions.required.count) }

    /// True when implied dimension values are present too.
    public var hasFull: Bool { !storage.contains { $0 == nil } }

    /// The required values as a plain mapping.
    public var requiredMapping: DataId {
        Dictionary(uniqueKeysWithValues: zip(dimensions.required, storage).map { ($0, $1!) })
    }

    /// Equality and hashing use the required values only: implied values follow from them.
    public static func == (lhs: DataCoordinate, rhs: DataCoordinate) -> Bool {
        lhs.requiredValues == rhs.requiredValues && lhs.dimensions == rhs.dimensions
    }

    public func hash(into hasher: inout Hasher) {
        for value in requiredValues { hasher.combine(value) }
    }

    /// `{instrument: HSC, visit: 903334, detector: 16}` (required dimensions only).
    public var description: String {
        "{" + required.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "}"
    }
}

extension DimensionUniverse {
    /// Checks and normalises a caller's data ID for `group`: resolves aliases, rejects unknown
    /// keys, requires every required dimension, converts value types (`"42"` → `42` for
    /// integer dimensions) and keeps any implied values given (checked later on expansion).
    public func standardize(_ dataId: DataId, for group: DimensionGroup, context: String = "data ID") throws -> DataCoordinate {
        var values: [String: DataIdValue] = [:]
        values.reserveCapacity(group.required.count + group.implied.count)
        // A data ID names a handful of dimensions: a linear search beats building a set.
        let wanted = group.names
        for (key, value) in dataId {
            let name = aliases[key] ?? key
            guard let element = elements[name], element.isDimension else {
                throw ButlerError.invalidDataId(
                    "\(context): unknown dimension '\(key)' in \(Self.render(dataId)); known dimensions: \(dimensionNames.joined(separator: ", "))"
                )
            }
            guard wanted.contains(name) else {
                throw ButlerError.invalidDataId(
                    "\(context): '\(key)' is not one of the dimensions \(group.names) in \(Self.render(dataId))")
            }
            let converted = try convert(value, for: element, context: context)
            if let previous = values[name], previous != converted {
                throw ButlerError.invalidDataId(
                    "\(context): dimension '\(name)' given twice with different values (\(previous) and \(converted))")
            }
            values[name] = converted
        }
        for name in group.required where values[name] == nil {
            throw ButlerError.invalidDataId(
                "\(context): missing required dimension '\(name)' (got \(Self.render(dataId)); \(group) are required)")
        }
        return DataCoordinate(dimensions: group, values: values)
    }

    /// Converts a value to the type of `element`'s primary key.
    func convert(_ value: DataIdValue, for element: DimensionElement, context: String) throws -> DataIdValue {
        let converted = try convertType(value, for: element, context: context)
        if let valid = validPixels(of: element), case .int(let pixel) = converted, !valid.contains(pixel) {
            throw ButlerError.invalidDataId(
                "\(context): \(element.name)=\(pixel) is not a pixel of \(element.name) (its pixels are \(valid.lowerBound)–\(valid.upperBound))"
            )
        }
        return converted
    }

    private func convertType(_ value: DataIdValue, for element: DimensionElement, context: String) throws -> DataIdValue {
        switch (element.primaryKey!.type, value) {
        case (.int, .int), (.string, .string): return value
        case (.int, .string(let text)):
            guard let int = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw ButlerError.invalidDataId(
                    "\(context): dimension '\(element.name)' takes an integer, got '\(text)'")
            }
            return .int(int)
        case (_, .int(let int)): return .string(String(int))
        case (_, .string): return value
        }
    }

    static func render(_ dataId: DataId) -> String {
        "{" + dataId.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}

public import Composites

/// One row of a dimension element: its key values and metadata (`visit 42`: exposure time,
/// physical filter, timespan…). Field names are the element's record columns: required
/// dimension names, its own keys (`id`, `name`), implied dimension names, metadata fields and
/// `timespan_begin`/`timespan_end` (TAI nanoseconds).
public struct DimensionRecord: Sendable, Hashable, CustomStringConvertible {
    /// The element this record belongs to.
    public let element: String
    /// Field values by name.
    public let fields: [String: JSONValue]

    /// Creates a record of `element`.
    public init(element: String, fields: [String: JSONValue]) {
        self.element = element
        self.fields = fields
    }

    /// The value of field `name` (`.null` when absent).
    public subscript(name: String) -> JSONValue { fields[name] ?? .null }

    public var description: String {
        "\(element)(" + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
    }
}

/// One column of a dimension element's table.
struct RecordColumn: Sendable {
    let name: String
    let type: FieldType
    /// Part of the primary key.
    let isKey: Bool
}

extension DimensionUniverse {
    /// The table columns of `element`, in order: required dimensions, own keys, implied
    /// dimensions, metadata, timespan.
    func recordColumns(of element: DimensionElement) -> [RecordColumn] {
        var columns: [RecordColumn] = []
        for dependency in requiredClosure(of: element) {
            columns.append(RecordColumn(name: dependency, type: elements[dependency]!.primaryKey!.type, isKey: true))
        }
        for (index, key) in element.keys.enumerated() {
            columns.append(RecordColumn(name: key.name, type: key.type, isKey: index == 0))
        }
        for dependency in element.implies {
            columns.append(RecordColumn(name: dependency, type: elements[dependency]!.primaryKey!.type, isKey: false))
        }
        for field in element.metadata {
            columns.append(RecordColumn(name: field.name, type: field.type, isKey: false))
        }
        if element.hasTimespan {
            columns.append(RecordColumn(name: "timespan_begin", type: .int, isKey: false))
            columns.append(RecordColumn(name: "timespan_end", type: .int, isKey: false))
        }
        return columns
    }

    /// Every dimension `element` requires, directly or through another element, in universe
    /// order (`visit_detector_region` → instrument, visit, detector; itself excluded).
    func requiredClosure(of element: DimensionElement) -> [String] {
        requiredClosures[element.name] ?? computeRequiredClosure(of: element)
    }

    /// ``requiredClosure(of:)`` worked out from the elements (at load, and for an element
    /// not in the table).
    func computeRequiredClosure(of element: DimensionElement) -> [String] {
        var seen = Set<String>()
        var frontier = element.requires
        while let name = frontier.popLast() {
            if seen.insert(name).inserted { frontier.append(contentsOf: elements[name]!.requires) }
        }
        return sorted(seen)
    }

    /// The field names of `element`'s records, in table order.
    public func recordFieldNames(of element: String) throws -> [String] {
        recordColumns(of: try self.element(element)).map(\.name)
    }

    /// The record column that holds `dimension`'s value in `element`'s table.
    func column(for dimension: String, in element: DimensionElement) -> String {
        dimension == element.name ? element.primaryKey!.name : dimension
    }
}

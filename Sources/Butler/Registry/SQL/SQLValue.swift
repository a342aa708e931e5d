package import Foundation

/// A value bound to, or read from, a SQL statement, the same on every engine.
///
/// UUIDs have their own case because SQLite stores them as 16-byte blobs and PostgreSQL as its
/// native `uuid`; each engine converts at the seam.
package enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer (also booleans, stored as 0/1).
    case integer(Int64)
    /// A double-precision number.
    case real(Double)
    /// Text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
    /// A UUID.
    case uuid(UUID)

    /// The integer, if this holds one.
    package var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, if this holds some.
    package var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The number as a double, for integer or real columns.
    package var double: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }

    /// The UUID, from a `uuid` value or a 16-byte blob.
    package var uuidValue: UUID? {
        switch self {
        case .uuid(let value): return value
        case .blob(let bytes) where bytes.count == 16:
            return UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                    bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        case .text(let text): return UUID(uuidString: text)
        default: return nil
        }
    }

    package var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return "'\(value)'"
        case .blob(let value): return "<\(value.count) bytes>"
        case .uuid(let value): return value.uuidString.lowercased()
        }
    }
}

/// One result row: values in select-list order, with their column names.
package struct SQLRow: Sendable {
    /// Column names in select-list order (shared by all rows of one result).
    package let columns: [String]
    /// Values in select-list order.
    package let values: [SQLValue]

    /// Creates a row.
    package init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value at `index` in the select list.
    package subscript(index: Int) -> SQLValue { values[index] }

    /// The value of column `name`, or `.null` if there is no such column.
    package subscript(name: String) -> SQLValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }
}

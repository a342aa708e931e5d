import ArgumentParser
import Butler
import Composites
import Foundation

/// A failure of the command's work — a file, a record, a table, a dataset — rather than of its
/// command line: ArgumentParser prints it as one line on stderr and exits with status 1, without
/// the usage text and status 64 a ``ValidationError`` (a command-line mistake) gets.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }
}

/// Prints rows as an aligned table (with a header and a rule) or as a JSON array.
struct Rows {
    var columns: [String]
    var rows: [[JSONValue]] = []

    mutating func append(_ row: [JSONValue]) { rows.append(row) }

    /// How to read `key` from a row: a column, or a member of an object column (a data ID's
    /// dimension).
    func lookup(_ key: String) throws -> @Sendable ([JSONValue]) -> JSONValue {
        if let index = columns.firstIndex(of: key) { return { $0[index] } }
        for (index, _) in columns.enumerated() where rows.contains(where: { $0[index].objectValue?[key] != nil }) {
            return { $0[index].objectValue?[key] ?? .null }
        }
        throw ValidationError("--order-by: no column or dimension '\(key)'; columns are \(columns.joined(separator: ", "))")
    }

    /// Sort order of cell values: null, booleans, numbers, text, then anything else by its text.
    static func precedes(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func rank(_ value: JSONValue) -> Int {
            switch value {
            case .null: return 0
            case .bool: return 1
            case .int, .double: return 2
            case .string: return 3
            default: return 4
            }
        }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return !x && y
        case (.string(let x), .string(let y)): return x < y
        default:
            if let x = a.doubleValue, let y = b.doubleValue { return x < y }
            return a.description < b.description
        }
    }

    func print(json: Bool) {
        if json {
            let objects = rows.map { row in
                JSONValue.object(Dictionary(uniqueKeysWithValues: zip(columns, row).map { ($0, $1) }))
            }
            printJSON(.array(objects))
            return
        }
        if rows.isEmpty {
            Swift.print("No results.")
            return
        }
        let cells = rows.map { $0.map(Self.cell) }
        let widths = columns.indices.map { index in
            max(columns[index].count, cells.map { $0[index].count }.max() ?? 0)
        }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: " ").trimmingCharacters(in: .whitespaces)
        }
        Swift.print(line(columns))
        Swift.print(line(widths.map { String(repeating: "-", count: $0) }))
        for row in cells { Swift.print(line(row)) }
    }

    static func cell(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .object(let members):
            return members.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        default: return value.description
        }
    }
}

/// Prints a JSON value with sorted keys.
func printJSON(_ value: JSONValue) {
    try? printJSON(encoding: value)
}

/// Prints any encodable value as indented JSON with sorted keys (a command's `--json` report).
func printJSON(encoding value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension DataIdValue {
    var json: JSONValue {
        switch self {
        case .int(let value): return .int(value)
        case .string(let value): return .string(value)
        }
    }
}

extension DataCoordinate {
    /// The required values as a JSON object.
    var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: required.map { ($0.name, $0.value.json) }))
    }
}

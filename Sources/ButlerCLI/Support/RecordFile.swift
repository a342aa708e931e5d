import ArgumentParser
import Composites
import Formatters
import Foundation

/// Reads dimension records from JSON or YAML: a list of mappings, or a mapping with a
/// `records` list.
enum RecordFile {
    static func load(_ path: String) throws -> [[String: JSONValue]] {
        let url = URL(fileURLWithPath: path)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
        }
        let value: JSONValue
        do {
            switch url.pathExtension.lowercased() {
            case "json": value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            case "yaml", "yml": value = try YAMLSupport.decode(JSONValue.self, from: text)
            default: throw CommandFailure("\(path): records must be in a .json, .yaml or .yml file")
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CommandFailure("\(path) is not valid \(url.pathExtension.uppercased()): \(error)")
        }
        let list = value.objectValue?["records"]?.arrayValue ?? value.arrayValue
        guard let list else { throw CommandFailure("\(path) must hold a list of records (or {records: [...]})") }
        return try list.enumerated().map { index, item in
            guard let record = item.objectValue else { throw CommandFailure("\(path): record \(index + 1) is not a mapping") }
            return record
        }
    }
}

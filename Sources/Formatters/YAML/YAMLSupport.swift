import Foundation
import Yams

/// The one door to Yams for the whole package.
///
/// Yams is not safe to call from several threads at once (concurrent parses were seen to
/// crash inside `Parser.checkDuplicates`), so every parse and emit is serialised here.
public enum YAMLSupport {
    private static let lock = NSLock()

    /// Decodes `type` from YAML text.
    public static func decode<T: Decodable>(
        _ type: T.Type, from text: String, userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws -> T {
        try lock.withLock { try YAMLDecoder().decode(type, from: text, userInfo: userInfo) }
    }

    /// Encodes a value as YAML text with sorted keys.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        try lock.withLock {
            let encoder = YAMLEncoder()
            encoder.options.sortKeys = true
            return try encoder.encode(value)
        }
    }

    /// The keys of the mapping at `path` in document order (Swift dictionaries lose it).
    public static func orderedKeys(in text: String, at path: [String]) throws -> [String] {
        try lock.withLock {
            guard var node = try Yams.compose(yaml: text) else { return [] }
            for key in path {
                guard let next = node.mapping?[key] else { return [] }
                node = next
            }
            return node.mapping?.keys.compactMap(\.string) ?? []
        }
    }
}

import Foundation
import Yams

/// The one door to Yams for the whole package.
///
/// Yams is not safe to call from several threads at once (concurrent parses were seen to
/// crash inside `Parser.checkDuplicates`), so every parse and emit is serialised here.
public enum YAMLSupport {
    private static let lock = NSLock()

    /// Decodes `type` from YAML text.
    /// - Throws: ``YAMLExpansionError`` when aliases expand the document far beyond its text
    ///   (an alias bomb: a kilobyte can describe a billion nodes).
    public static func decode<T: Decodable>(
        _ type: T.Type, from text: String, userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws -> T {
        try lock.withLock {
            guard let node = try Yams.compose(yaml: text) else { return try YAMLDecoder().decode(type, from: text, userInfo: userInfo) }
            try requireBoundedExpansion(node, textLength: text.utf8.count)
            return try YAMLDecoder().decode(type, from: node, userInfo: userInfo)
        }
    }

    /// Refuses a composed document whose aliases expand it beyond ten nodes per byte of text
    /// (plus a margin); counting stops at the limit, so the check itself is bounded.
    static func requireBoundedExpansion(_ root: Node, textLength: Int) throws {
        let limit = 10 * textLength + 100_000
        var count = 0
        var pending = [root]
        while let node = pending.popLast() {
            count += 1
            if count > limit { throw YAMLExpansionError(limit: limit, textLength: textLength) }
            if let mapping = node.mapping {
                for (key, value) in mapping {
                    pending.append(key)
                    pending.append(value)
                }
            } else if let sequence = node.sequence {
                pending.append(contentsOf: sequence)
            }
        }
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

/// A YAML document whose aliases expand it far beyond its own size.
public struct YAMLExpansionError: Error, CustomStringConvertible, Sendable {
    /// The most nodes accepted for the document.
    public let limit: Int
    /// The document's length in bytes.
    public let textLength: Int

    public var description: String {
        "the YAML document (\(textLength) bytes) expands through its aliases to more than \(limit) nodes; anchors and aliases this deep are refused"
    }
}

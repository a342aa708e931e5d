public import Foundation

/// JSON artifacts for any `Codable` value: metrics dictionaries, lists, user types.
///
/// Output keys are sorted so that the same value always gives the same bytes (and checksum).
public struct JSONFormatter: StructuredFileFormatter {
    /// Creates the formatter.
    public init() {}
    public var name: String { "JSONFormatter" }
    public var defaultExtension: String { ".json" }
    public var readableExtensions: [String] { [".json"] }

    public func encode(_ value: any Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: Data, userInfo: [CodingUserInfoKey: any Sendable]) throws -> T {
        let decoder = JSONDecoder()
        decoder.userInfo = userInfo
        return try decoder.decode(type, from: data)
    }
}

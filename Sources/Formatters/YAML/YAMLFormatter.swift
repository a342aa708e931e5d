public import Foundation

/// YAML artifacts for any `Codable` value, through Yams (see ``YAMLSupport``).
public struct YAMLFormatter: StructuredFileFormatter {
    /// Creates the formatter.
    public init() {}
    public var name: String { "YAMLFormatter" }
    public var defaultExtension: String { ".yaml" }
    public var readableExtensions: [String] { [".yaml", ".yml"] }

    public func encode(_ value: any Encodable) throws -> Data {
        Data(try YAMLSupport.encode(value).utf8)
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: Data, userInfo: [CodingUserInfoKey: any Sendable]) throws -> T {
        try YAMLSupport.decode(type, from: String(decoding: data, as: UTF8.self), userInfo: userInfo)
    }
}

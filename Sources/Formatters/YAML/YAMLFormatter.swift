public import Composites
public import Foundation

/// YAML artifacts for any `Codable` value, through Yams.
public struct YAMLFormatter: FileFormatter {
    /// Creates the formatter.
    public init() {}
    public var name: String { "YAMLFormatter" }
    public var defaultExtension: String { ".yaml" }
    public var readableExtensions: [String] { [".yaml", ".yml"] }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        guard let encodable = value as? any Encodable else {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(type(of: value)) is not Encodable")
        }
        do {
            let text = try YAMLSupport.encode(encodable)
            try FileIO.write(Data(text.utf8), to: url)
        } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(error)")
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        try requireNoParameters(parameters, url: url)
        guard let decode = storageClass.decodeDefault else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read",
                reason: "storage class \(storageClass.name) has no Decodable in-memory type")
        }
        return try decodeReporting(url: url) { text in
            let box = DefaultTypeDecoding.DecoderBox(decode)
            return try YAMLSupport.decode(DefaultTypeDecoding.self, from: text, userInfo: [DefaultTypeDecoding.key: box]).value
        }
    }

    public func read<T>(
        _ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        try requireNoParameters(parameters, url: url)
        guard let decodable = T.self as? any Decodable.Type else {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "\(T.self) is not Decodable")
        }
        let value = try decodeReporting(url: url) { try YAMLSupport.decode(decodable, from: $0) }
        guard let typed = value as? T else {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "decoded value is not \(T.self)")
        }
        return typed
    }

    private func decodeReporting<R>(url: URL, _ body: (String) throws -> R) throws -> R {
        let text: String
        do { text = String(decoding: try FileIO.read(url), as: UTF8.self) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: error.localizedDescription)
        }
        do { return try body(text) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "\(error)")
        }
    }
}

public import Composites
public import Foundation

/// JSON artifacts for any `Codable` value: metrics dictionaries, lists, user types.
///
/// Output keys are sorted so that the same value always gives the same bytes (and checksum).
public struct JSONFormatter: FileFormatter {
    /// Creates the formatter.
    public init() {}
    public var name: String { "JSONFormatter" }
    public var defaultExtension: String { ".json" }
    public var readableExtensions: [String] { [".json"] }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        guard let encodable = value as? any Encodable else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "write",
                reason: "\(type(of: value)) is not Encodable")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encodeJSON(encodable, encoder: encoder) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(error)")
        }
        do { try FileIO.write(data, to: url) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: error.localizedDescription)
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        try requireNoParameters(parameters, url: url)
        guard let decode = storageClass.decodeDefault else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read",
                reason: "storage class \(storageClass.name) has no Decodable in-memory type")
        }
        let decoder = JSONDecoder()
        decoder.userInfo[DefaultTypeDecoding.key] = DefaultTypeDecoding.DecoderBox(decode)
        return try decodeReporting(url: url) { try decoder.decode(DefaultTypeDecoding.self, from: $0).value }
    }

    public func read<T>(
        _ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        try requireNoParameters(parameters, url: url)
        guard let decodable = T.self as? any Decodable.Type else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", reason: "\(T.self) is not Decodable")
        }
        let value = try decodeReporting(url: url) { try JSONDecoder().decode(decodable, from: $0) }
        guard let typed = value as? T else {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "decoded value is not \(T.self)")
        }
        return typed
    }

    private func decodeReporting<R>(url: URL, _ body: (Data) throws -> R) throws -> R {
        let data: Data
        do { data = try FileIO.read(url) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: error.localizedDescription)
        }
        do { return try body(data) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "\(error)")
        }
    }
}

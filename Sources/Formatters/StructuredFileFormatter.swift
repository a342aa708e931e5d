public import Composites
public import Foundation

/// A formatter for `Codable` values in a text format (JSON, YAML): it says how to encode and
/// decode, and the extension supplies file I/O, default-type decoding and error reporting.
public protocol StructuredFileFormatter: FileFormatter {
    /// The file bytes for a value.
    func encode(_ value: any Encodable) throws -> Data
    /// A value decoded from file bytes; `userInfo` reaches the decoder.
    func decode<T: Decodable>(_ type: T.Type, from data: Data, userInfo: [CodingUserInfoKey: any Sendable]) throws -> T
}

extension StructuredFileFormatter {
    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        guard let encodable = value as? any Encodable else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "write", kind: .typeMismatch, reason: "\(type(of: value)) is not Encodable")
        }
        let data: Data
        do { data = try encode(encodable) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", kind: .typeMismatch, reason: "\(error)", cause: error)
        }
        do { try FileIO.write(data, to: url) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(error)", cause: error)
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        try requireNoParameters(parameters, url: url)
        guard let decode = storageClass.decodeDefault else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .typeMismatch,
                reason: "storage class \(storageClass.name) has no Decodable in-memory type")
        }
        let box = DefaultTypeDecoding.DecoderBox(decode)
        return try decodeReporting(url: url) {
            try self.decode(DefaultTypeDecoding.self, from: $0, userInfo: [DefaultTypeDecoding.key: box]).value
        }
    }

    public func read<T>(_ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> T {
        try requireNoParameters(parameters, url: url)
        guard let decodable = T.self as? any Decodable.Type else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .typeMismatch, reason: "\(T.self) is not Decodable")
        }
        let value = try decodeReporting(url: url) { try self.decode(decodable, from: $0, userInfo: [:]) }
        guard let typed = value as? T else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .typeMismatch, reason: "decoded value is not \(T.self)")
        }
        return typed
    }

    private func decodeReporting<R>(url: URL, _ body: (Data) throws -> R) throws -> R {
        let data: Data
        do { data = try FileIO.read(url) } catch let error as FileIOError {
            throw FormatterError(formatter: name, path: url.path, operation: "read", kind: error.kind, reason: "\(error)", cause: error)
        }
        do { return try body(data) } catch {
            // Well-formed data of another shape is a request for the wrong type; anything else
            // (a syntax error, invalid data) is a corrupt file.
            var kind = FileErrorKind.corruptFile
            if let decoding = error as? DecodingError {
                if case .dataCorrupted = decoding {} else { kind = .typeMismatch }
            }
            throw FormatterError(formatter: name, path: url.path, operation: "read", kind: kind, reason: "\(error)", cause: error)
        }
    }
}

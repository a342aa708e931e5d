public import Composites
public import Foundation

/// Opaque bytes written and read back verbatim: PNG plots, logs, anything already encoded.
///
/// The extension of a new artifact comes from configuration (a QA plot is `.png`), so one
/// formatter serves every byte-for-byte format.
public struct BytesFormatter: FileFormatter {
    /// Creates a formatter writing files with `defaultExtension` (e.g. `.png`).
    public init(defaultExtension: String = ".bin") { self.defaultExtension = defaultExtension }
    public var name: String { "BytesFormatter" }
    public let defaultExtension: String
    public var readableExtensions: [String] { [".bin", ".png", ".jpg", ".jpeg", ".pdf", ".txt", ".log", ".gz", ".zip", ".tar"] }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        let data: Data
        switch value {
        case let bytes as Data: data = bytes
        case let bytes as [UInt8]: data = Data(bytes)
        case let text as String: data = Data(text.utf8)
        default:
            throw FormatterError(
                formatter: name, path: url.path, operation: "write", kind: .typeMismatch,
                reason: "\(type(of: value)) is not bytes (Data, [UInt8] or String)")
        }
        do { try FileIO.write(data, to: url) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "\(error)", cause: error)
        }
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        try requireNoParameters(parameters, url: url)
        do { return try FileIO.read(url) } catch let error as FileIOError {
            throw FormatterError(formatter: name, path: url.path, operation: "read", kind: error.kind, reason: "\(error)", cause: error)
        }
    }

    public func read<T>(
        _ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        guard let data = try read(from: url, storageClass: storageClass, parameters: parameters) as? Data else {
            throw FormatterError(formatter: name, path: url.path, operation: "read", kind: .typeMismatch, reason: "no bytes")
        }
        if let typed = data as? T { return typed }
        if let typed = [UInt8](data) as? T { return typed }
        if T.self == String.self, let text = String(data: data, encoding: .utf8), let typed = text as? T {
            return typed
        }
        throw FormatterError(
            formatter: name, path: url.path, operation: "read", kind: .typeMismatch, reason: "bytes cannot be returned as \(T.self)")
    }
}

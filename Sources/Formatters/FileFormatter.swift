public import Composites
public import Foundation

/// Reads and writes one kind of in-memory value to one file format.
///
/// The datastore hands a formatter a temporary path to write (it renames the file into place
/// only once the registry accepts the dataset) and a final path to read. Formatters never see
/// data IDs or collections: errors they throw name the file, and the datastore adds the dataset.
public protocol FileFormatter: Sendable {
    /// The stable name recorded with every artifact, used to pick the reader later.
    var name: String { get }
    /// The file extension (with its dot) for new artifacts, e.g. `.json`.
    var defaultExtension: String { get }
    /// File extensions (with dots, lower case) this formatter reads when ingesting files.
    var readableExtensions: [String] { get }
    /// Writes `value` to `url`, creating or truncating it.
    func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws
    /// Reads the file as the storage class's in-memory type.
    func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable
    /// Reads the file as `type`, for `get(…, as:)`; the default reads the default type and casts.
    func read<T>(_ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> T
    /// A copy that writes with `parameters` from repository configuration (compression,
    /// tile or chunk shape…); the default accepts none.
    func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter
    /// Reads one stored or derived component (`wcs`, `bbox`…). The default reads the whole
    /// value and extracts the component; formats that can read just the part override it.
    func readComponent(_ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable
}

/// Read parameters (daf_butler's `parameters=`), by name; the storage class says which exist.
public typealias ReadParameters = [String: JSONValue]

extension FileFormatter {
    public func read<T>(
        _ type: T.Type, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        let value = try read(from: url, storageClass: storageClass, parameters: parameters)
        if let typed = value as? T { return typed }
        throw FormatterError(
            formatter: name, path: url.path, operation: "read",
            reason: "the file holds \(Swift.type(of: value)), which cannot be returned as \(T.self)")
    }

    public func readComponent(_ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        guard let assembler = storageClass.assembler else {
            throw FormatterError(formatter: name, path: url.path, operation: "read",
                                 reason: "storage class \(storageClass.name) has no components")
        }
        let value = try read(from: url, storageClass: storageClass, parameters: parameters)
        do { return try assembler.component(component, of: value) } catch {
            throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "\(error)")
        }
    }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        guard parameters.isEmpty else {
            throw FormatterError(formatter: name, path: "", operation: "configure",
                                 reason: "takes no write parameters, got \(parameters.keys.sorted().joined(separator: ", "))")
        }
        return self
    }

    /// Rejects parameters this formatter cannot apply, naming them and the file.
    public func requireNoParameters(_ parameters: ReadParameters, url: URL) throws {
        guard !parameters.isEmpty else { return }
        throw FormatterError(
            formatter: name, path: url.path, operation: "read",
            reason: "unsupported read parameters: \(parameters.keys.sorted().joined(separator: ", "))")
    }
}

/// A formatter failure: which formatter, which file, doing what, and the library's message.
public struct FormatterError: Error, CustomStringConvertible, Sendable {
    /// The formatter's ``FileFormatter/name``.
    public let formatter: String
    /// The file being read or written.
    public let path: String
    /// `read` or `write`.
    public let operation: String
    /// What went wrong, in the underlying library's words where it has some.
    public let reason: String

    /// Describes a failure of `formatter` on `path`.
    public init(formatter: String, path: String, operation: String, reason: String) {
        self.formatter = formatter
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(formatter) could not \(operation) \(path): \(reason)" }
}

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
    /// Where the pixels of a file this formatter wrote lie (``ByteLayout``), so that a remote
    /// artifact can be read in part; nil (the default) for formats that are always read whole.
    func byteLayout(of url: URL) throws -> ByteLayout?
    /// What a read of `component` (nil: the whole value) with `parameters` needs of a file
    /// with a byte layout; nil (the default) when it needs the whole file.
    func partialNeed(component: String?, parameters: ReadParameters) -> ByteLayout.Need?
    /// Where a file's headers, tables and attributes lie (everything ``byteLayout(of:)`` reads),
    /// found from the file's own bytes through `read` — for an artifact read by range that has
    /// no recorded layout. Nil (the default) for formats whose metadata cannot be found that
    /// way: such an artifact is then read whole.
    func metadataRanges(fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]) throws -> [Range<Int64>]?
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
            formatter: name, path: url.path, operation: "read", kind: .typeMismatch,
            reason: "the file holds \(Swift.type(of: value)), which cannot be returned as \(T.self)")
    }

    public func readComponent(
        _ component: String, from url: URL, storageClass: StorageClass, parameters: ReadParameters
    ) throws -> any Sendable {
        guard let assembler = storageClass.assembler else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .absentComponent,
                reason: "storage class \(storageClass.name) has no components")
        }
        let value = try read(from: url, storageClass: storageClass, parameters: parameters)
        do { return try assembler.component(component, of: value) } catch {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .absentComponent, reason: "\(error)", cause: error)
        }
    }

    public func byteLayout(of url: URL) throws -> ByteLayout? { nil }

    public func partialNeed(component: String?, parameters: ReadParameters) -> ByteLayout.Need? { nil }

    public func metadataRanges(fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]) throws -> [Range<Int64>]? {
        nil
    }

    public func configured(with parameters: [String: JSONValue]) throws -> any FileFormatter {
        guard parameters.isEmpty else {
            throw FormatterError(
                formatter: name, path: "", operation: "configure",
                reason: "takes no write parameters, got \(parameters.keys.sorted().joined(separator: ", "))")
        }
        return self
    }

    /// Rejects parameters this formatter cannot apply, naming them and the file.
    public func requireNoParameters(_ parameters: ReadParameters, url: URL) throws {
        guard !parameters.isEmpty else { return }
        throw FormatterError(
            formatter: name, path: url.path, operation: "read", kind: .invalidRequest,
            reason: "unsupported read parameters: \(parameters.keys.sorted().joined(separator: ", "))")
    }
}

/// What kind of failure a formatter met, so that callers act on it without reading messages:
/// a missing file is not a corrupt one, and neither is a request the file cannot serve.
public enum FileErrorKind: String, Sendable, Hashable, CaseIterable {
    /// The file does not exist.
    case missingFile
    /// The file exists, but its bytes are not what the format says (truncated, corrupt, another
    /// format, values out of range).
    case corruptFile
    /// The request cannot be served by any file: an unknown or malformed parameter, a cutout
    /// outside the image.
    case invalidRequest
    /// The file holds no such component (an exposure written without a PSF).
    case absentComponent
    /// The value is not of a type this formatter writes, or the file's content cannot be
    /// returned as the type asked for.
    case typeMismatch
    /// The operating system refused an operation (permission, disk full, I/O error).
    case ioFailure
}

/// An error a formatter or file handle throws, with its ``FileErrorKind``.
public protocol FileFormatError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure it is.
    var kind: FileErrorKind { get }
}

/// A formatter failure: which formatter, which file, doing what, and the library's message.
public struct FormatterError: FileFormatError {
    /// The formatter's ``FileFormatter/name``.
    public let formatter: String
    /// The file being read or written.
    public let path: String
    /// `read`, `write` or `configure`.
    public let operation: String
    /// What kind of failure it is.
    public let kind: FileErrorKind
    /// What went wrong, in the underlying library's words where it has some.
    public let reason: String
    /// The error that caused this one, if any.
    public let cause: (any Error)?

    /// Describes a failure of `formatter` on `path`. Without a `kind`, a failed write is an
    /// I/O failure, a failed configuration an invalid request and a failed read a corrupt file.
    public init(
        formatter: String, path: String, operation: String, kind: FileErrorKind? = nil, reason: String,
        cause: (any Error)? = nil
    ) {
        self.formatter = formatter
        self.path = path
        self.operation = operation
        self.kind = kind ?? (operation == "write" ? .ioFailure : operation == "configure" ? .invalidRequest : .corruptFile)
        self.reason = reason
        self.cause = cause
    }

    public var description: String { "\(formatter) could not \(operation) \(path): \(reason)" }
}

import Foundation
import Synchronization

/// The formatters a process knows, by name and by the file extensions they read.
///
/// Artifacts record their formatter's name, so a reader is found without configuration;
/// ingested files are matched by extension unless the caller names a formatter.
public final class FormatterRegistry: Sendable {
    private let formatters: Mutex<[String: any FileFormatter]>

    /// A registry holding the JSON, YAML, bytes, FITS and HDF5 exposure formatters and the FITS
    /// catalog formatter.
    public init() {
        var table: [String: any FileFormatter] = [:]
        for formatter: any FileFormatter in [
            JSONFormatter(), YAMLFormatter(), BytesFormatter(), FitsExposureFormatter(), HDF5ExposureFormatter(), FitsImageFormatter(),
            FitsCatalogFormatter(),
        ] {
            table[formatter.name] = formatter
        }
        formatters = Mutex(table)
    }

    /// Adds or replaces a formatter under its name.
    public func register(_ formatter: any FileFormatter) {
        formatters.withLock { $0[formatter.name] = formatter }
    }

    /// The formatter called `name`.
    /// - Throws: ``FormatterLookupError`` naming the known formatters.
    public func formatter(named name: String) throws -> any FileFormatter {
        if let found = formatters.withLock({ $0[name] }) { return found }
        throw FormatterLookupError(
            message: "unknown formatter '\(name)'; known: \(names.joined(separator: ", "))")
    }

    /// The formatter that reads files ending in `pathExtension` (with or without its dot).
    public func formatter(forExtension pathExtension: String) throws -> any FileFormatter {
        let wanted = "." + pathExtension.lowercased().drop { $0 == "." }
        let match = formatters.withLock { table in
            table.values.sorted { $0.name < $1.name }.first { $0.readableExtensions.contains(wanted) }
        }
        if let match { return match }
        throw FormatterLookupError(
            message: "no formatter reads '\(wanted)' files; configure one explicitly")
    }

    /// Every formatter name, sorted.
    public var names: [String] { formatters.withLock { $0.keys.sorted() } }
}

/// A formatter could not be found.
public struct FormatterLookupError: Error, CustomStringConvertible, Sendable {
    /// What was asked for and what exists.
    public let message: String
    public var description: String { message }
}

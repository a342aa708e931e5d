public import Composites
public import Foundation

/// A catalog (``SourceCatalog``: named columns of numbers) as a FITS binary table: an empty
/// primary HDU and one `CATALOG` table of double columns, a row per source — readable by
/// astropy, fitsio or TOPCAT. A photometric calibration, when the catalog has one, goes in the
/// table header (`PHOTCALM`, `PHOTCALE`).
public struct FitsCatalogFormatter: FileFormatter {
    /// The formatter (it takes no write parameters).
    public init() {}

    public var name: String { "FitsCatalogFormatter" }
    public var defaultExtension: String { ".fits" }
    public var readableExtensions: [String] { [] }

    public func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        guard let catalog = value as? SourceCatalog else {
            throw FormatterError(
                formatter: name, path: url.path, operation: "write", kind: .typeMismatch, reason: "\(type(of: value)) is not a catalog")
        }
        try FITSCatalog.write(catalog, to: url.path)
    }

    public func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        if !parameters.isEmpty {
            throw FormatterError(
                formatter: name, path: url.path, operation: "read", kind: .invalidRequest,
                reason: "a catalog takes no read parameters, got \(parameters.keys.sorted().joined(separator: ", "))")
        }
        return try FITSCatalog.read(from: url.path)
    }
}

/// FITS binary tables of double columns ↔ ``SourceCatalog``.
public enum FITSCatalog {
    /// Writes the catalog's columns (in name order) as one binary table, replacing any file at
    /// `path`.
    public static func write(_ catalog: SourceCatalog, to path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        let file = try FITSFile.create(path)
        try file.writeEmptyPrimary()
        try file.writeColumns(name: "CATALOG", columns: catalog.columns.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        if let calibration = catalog.photoCalib {
            try file.writeKey("PHOTCALM", .double(calibration.calibrationMean), comment: "nJy per count")
            try file.writeKey("PHOTCALE", .double(calibration.calibrationErr), comment: "its uncertainty")
        }
        try file.close()
    }

    /// Reads the first binary table of a FITS file: every numeric column as doubles.
    /// - Throws: ``FITSError`` naming the file when it has no table or a column is not numeric.
    public static func read(from path: String) throws -> SourceCatalog {
        let file = try FITSFile.open(path)
        guard try file.moveToFirstTable() else {
            throw FITSError(path: path, kind: .corruptFile, message: "no binary table HDU in the file", context: "reading a catalog")
        }
        let columns = try file.readColumns()
        let header = try file.readHeader()
        var catalog: SourceCatalog
        do { catalog = try SourceCatalog(columns: Dictionary(columns, uniquingKeysWith: { first, _ in first })) } catch {
            throw FITSError(path: path, kind: .corruptFile, message: "\(error)", context: "reading a catalog")
        }
        if let mean = header["PHOTCALM"]?.doubleValue {
            catalog.photoCalib = PhotoCalib(calibrationMean: mean, calibrationErr: header["PHOTCALE"]?.doubleValue ?? 0)
        }
        try file.close()
        return catalog
    }
}

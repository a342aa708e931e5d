/// A table of measurements: named columns of numbers (`x`, `y`, `psfFlux_instFlux`,
/// `psfFlux_instFluxErr`…) and, optionally, the photometric calibration that turns
/// instrumental fluxes into physical ones.
public struct SourceCatalog: Sendable, Hashable, Codable {
    /// Columns by name, all of the same length.
    public let columns: [String: [Double]]
    /// The calibration, when known (often supplied by the calexp the sources came from).
    public var photoCalib: PhotoCalib?

    /// A catalog of equal-length columns.
    public init(columns: [String: [Double]], photoCalib: PhotoCalib? = nil) throws {
        let lengths = Set(columns.values.map(\.count))
        guard lengths.count <= 1 else {
            throw StorageClassError.wrongType("SourceCatalog", expected: "columns of one length", got: "lengths \(lengths.sorted())")
        }
        self.columns = columns
        self.photoCalib = photoCalib
    }

    /// Number of rows.
    public var count: Int { columns.values.first?.count ?? 0 }
}

/// A catalog with calibrated fluxes: for every `<name>_instFlux` column (and its
/// `<name>_instFluxErr`), `<name>_nJy`, `<name>_nJyErr` and `<name>_mag` (AB) columns.
public struct CalibratedCatalog: Sendable, Equatable {
    /// Original and calibrated columns by name.
    public let columns: [String: [Double]]
    /// The calibration used.
    public let photoCalib: PhotoCalib

    /// Calibrates `catalog` with `photoCalib`.
    public init(_ catalog: SourceCatalog, photoCalib: PhotoCalib) {
        var columns = catalog.columns
        for (name, fluxes) in catalog.columns where name.hasSuffix("_instFlux") {
            let base = String(name.dropLast("_instFlux".count))
            let errors = catalog.columns["\(base)_instFluxErr"] ?? Array(repeating: 0, count: fluxes.count)
            let calibrated = zip(fluxes, errors).map { photoCalib.instFluxToNanojansky($0, error: $1) }
            let magnitudes = zip(fluxes, errors).map { photoCalib.instFluxToMagnitude($0, error: $1) }
            columns["\(base)_nJy"] = calibrated.map(\.value)
            columns["\(base)_nJyErr"] = calibrated.map(\.error)
            columns["\(base)_mag"] = magnitudes.map(\.value)
        }
        self.columns = columns
        self.photoCalib = photoCalib
    }
}

/// The assembler of `SourceCatalog`: one stored component, `photoCalib`.
public struct CatalogAssembler: CompositeAssembler {
    /// Creates the assembler.
    public init() {}

    private func catalog(_ value: any Sendable) throws -> SourceCatalog {
        guard let catalog = value as? SourceCatalog else {
            throw StorageClassError.wrongType("SourceCatalog", expected: "SourceCatalog", got: "\(type(of: value))")
        }
        return catalog
    }

    public func component(_ name: String, of composite: any Sendable) throws -> any Sendable {
        let value = try catalog(composite)
        switch name {
        case "photoCalib":
            guard let photoCalib = value.photoCalib else { throw StorageClassError.absentComponent(name, storageClass: "SourceCatalog") }
            return photoCalib
        case "columns": return value.columns
        default: throw StorageClassError.unknownComponent(name, storageClass: "SourceCatalog", known: ["columns", "photoCalib"])
        }
    }

    public func replacing(_ name: String, with value: any Sendable, in composite: any Sendable) throws -> any Sendable {
        let current = try catalog(composite)
        switch (name, value) {
        case ("photoCalib", let photoCalib as PhotoCalib):
            return try SourceCatalog(columns: current.columns, photoCalib: photoCalib)
        case ("columns", let columns as [String: [Double]]):
            return try SourceCatalog(columns: columns, photoCalib: current.photoCalib)
        default:
            throw StorageClassError.unknownComponent(name, storageClass: "SourceCatalog", known: ["columns", "photoCalib"])
        }
    }

    public func disassemble(_ composite: any Sendable) throws -> [String: any Sendable] {
        let value = try catalog(composite)
        var parts: [String: any Sendable] = ["columns": value.columns]
        if let photoCalib = value.photoCalib { parts["photoCalib"] = photoCalib }
        return parts
    }

    public func assemble(_ components: [String: any Sendable]) throws -> any Sendable {
        guard let columns = components["columns"] as? [String: [Double]] else {
            throw StorageClassError.absentComponent("columns", storageClass: "SourceCatalog")
        }
        return try SourceCatalog(columns: columns, photoCalib: components["photoCalib"] as? PhotoCalib)
    }

    public func sourceComponents(forDerived name: String) -> [String] { [] }
}

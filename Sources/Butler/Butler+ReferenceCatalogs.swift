public import Composites
import Foundation
public import Sky

/// Reference catalogs as datasets sharded on the sky: one `ReferenceCatalog` dataset per pixel
/// of the common sky pixelization (htm7) holding the catalog's rows inside it, as daf_butler's
/// refcats are; versions are RUN collections.
extension Butler {
    /// Splits `catalog` into shards by the common-skypix pixel of each row's (`raColumn`,
    /// `decColumn`) position (degrees) and stores them as datasets of `name` (registered with
    /// the common skypix dimension and storage class `ReferenceCatalog` if new) in `run`, in
    /// one transaction. Returns the shards' references, by pixel.
    /// - Throws: ``ButlerError`` naming a missing column, or a row whose position is not finite
    ///   or out of range.
    @discardableResult
    public func ingestReferenceCatalog(
        _ name: String, catalog: SourceCatalog, raColumn: String = "ra", decColumn: String = "dec", run: String
    ) async throws -> [DatasetRef] {
        let skypix = universe.commonSkypix
        let context = "reference catalog \(name)"
        guard let ra = catalog.columns[raColumn], let dec = catalog.columns[decColumn] else {
            throw ButlerError(
                .invalidDataId,
                "\(context): no '\(raColumn)'/'\(decColumn)' position columns (columns: \(catalog.columns.keys.sorted().joined(separator: ", ")))"
            )
        }
        let pixelization = universe.commonPixelization
        var rowsByPixel: [UInt64: [Int]] = [:]
        for row in ra.indices {
            let point: LonLat
            do { point = try LonLat(lonDegrees: ra[row], latDegrees: dec[row]) } catch let error as SkyError {
                throw ButlerError(.invalidDataId, "\(context): row \(row): \(error.message)", cause: error)
            }
            rowsByPixel[pixelization.index(of: point), default: []].append(row)
        }
        try await registerDatasetType(name, dimensions: [skypix], storageClass: "ReferenceCatalog")
        var shards: [DatasetToPut] = []
        for (pixel, rows) in rowsByPixel.sorted(by: { $0.key < $1.key }) {
            let columns = catalog.columns.mapValues { values in rows.map { values[$0] } }
            let shard = try SourceCatalog(columns: columns, photoCalib: catalog.photoCalib)
            shards.append(DatasetToPut(shard, name, dataId: [skypix: .int(Int64(pixel))]))
        }
        return try await put(contentsOf: shards, run: run)
    }

    /// The rows of reference catalog `name` within `radiusDegrees` of `center` (boundary
    /// included): the shards whose pixels the circle's envelope holds, read and filtered by
    /// each row's exact distance.
    /// - Throws: ``ButlerError`` for a radius out of range or an unknown catalog.
    public func loadReferenceCatalog(
        _ name: String, center: LonLat, radiusDegrees: Double, collections: [String]? = nil, raColumn: String = "ra",
        decColumn: String = "dec"
    ) async throws -> SourceCatalog {
        let circle: Circle
        do { circle = try Circle(lonDegrees: center.lonDegrees, latDegrees: center.latDegrees, radiusDegrees: radiusDegrees) } catch let
            error
            as SkyError
        {
            throw ButlerError(.invalidQuery, "reference catalog \(name): \(error.message)", cause: error)
        }
        let skypix = universe.commonSkypix
        let shards = try await queryDatasets(
            [name], collections: collections, where: "\(skypix) OVERLAPS :region", bind: ["region": .sky(.region(.circle(circle)))],
            findFirst: true)
        var merged: [String: [Double]] = [:]
        var photoCalib: PhotoCalib?
        for shard in shards {
            let catalog = try await get(shard, as: SourceCatalog.self)
            photoCalib = photoCalib ?? catalog.photoCalib
            guard let ra = catalog.columns[raColumn], let dec = catalog.columns[decColumn] else {
                throw ButlerError(.invalidDataId, "reference catalog \(name): shard \(shard) has no '\(raColumn)'/'\(decColumn)' columns")
            }
            let inside = ra.indices.filter { row in
                (try? LonLat(lonDegrees: ra[row], latDegrees: dec[row])).map { circle.contains(UnitVector3d($0)) } ?? false
            }
            for (column, values) in catalog.columns { merged[column, default: []] += inside.map { values[$0] } }
        }
        return try SourceCatalog(columns: merged, photoCalib: photoCalib)
    }
}

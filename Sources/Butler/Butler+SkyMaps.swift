import Composites
import Foundation
import Sky
public import SkyMaps

/// What ``Butler/registerSkyMap(_:_:)`` did.
public struct SkyMapRegistration: Sendable, Hashable {
    /// The skymap's name.
    public let name: String
    /// Its lsst.skymap identity (SHA-1, hex), the skymap record's `hash`.
    public let hash: String
    /// Tract records written (0 when the same skymap was registered before).
    public let tracts: Int
    /// Patch records written.
    public let patches: Int
    /// True when the `skyMap` dataset was written by this call.
    public let wroteDataset: Bool
}

extension Butler {
    /// The run the `skyMap` datasets live in (lsst.skymap's `SKYMAP_RUN_COLLECTION_NAME`).
    public static let skyMapRun = "skymaps"
    /// The dataset type of a registered skymap (lsst.skymap's `SKYMAP_DATASET_TYPE_NAME`).
    public static let skyMapDatasetType = "skyMap"

    /// Registers a skymap under `name`, as lsst.skymap's `BaseSkyMap.register` does: the
    /// `skymap` record (hash, `tract_max`, `patch_nx_max`, `patch_ny_max`), one `tract` record per
    /// tract and one `patch` record per patch with their outer regions (sphgeom encoding) and
    /// common-skypix overlaps, in one transaction; then the skymap itself as a `skyMap` dataset in
    /// the `skymaps` run.
    ///
    /// Registering the same definition again writes nothing (and restores the `skyMap` dataset
    /// if an earlier call stopped before writing it); a different definition under the same
    /// name, or the same definition under another name, is an error.
    @discardableResult
    public func registerSkyMap(_ name: String, _ skymap: SkyMap) async throws -> SkyMapRegistration {
        try requireWriteable("register skymap \(name)")
        guard !name.isEmpty, name.count <= 64 else {
            throw ButlerError.dimensionRecord("skymap name '\(name)' must be 1–64 characters")
        }
        let hash = skymap.hash
        let existing = try await dimensionRecords("skymap")
        if let other = existing.first(where: { $0["hash"].stringValue == hash && $0["name"].stringValue != name }) {
            throw ButlerError(
                .conflict,
                "skymap \(name): the same skymap (hash \(hash)) is already registered as '\(other["name"].stringValue ?? "?")'")
        }
        var tracts = 0, patches = 0
        if let same = existing.first(where: { $0["name"].stringValue == name }) {
            guard same["hash"].stringValue == hash else {
                throw ButlerError(
                    .conflict,
                    "skymap \(name) is already registered with hash \(same["hash"].stringValue ?? "?"); this definition's hash is \(hash)")
            }
        } else {
            (tracts, patches) = try await writeSkyMapRecords(name, skymap)
        }
        _ = try await registerRun(Self.skyMapRun)
        _ = try await registerDatasetType(Self.skyMapDatasetType, dimensions: ["skymap"], storageClass: "SkyMap")
        let dataId: DataId = ["skymap": .string(name)]
        var wrote = false
        if try await findDataset(Self.skyMapDatasetType, dataId: dataId, collections: [Self.skyMapRun]) == nil {
            try await put(skymap, Self.skyMapDatasetType, dataId: dataId, run: Self.skyMapRun)
            wrote = true
        }
        return SkyMapRegistration(name: name, hash: hash, tracts: tracts, patches: patches, wroteDataset: wrote)
    }

    /// The skymap registered as `name`, read from its `skyMap` dataset.
    public func skyMap(_ name: String) async throws -> SkyMap {
        try await get(Self.skyMapDatasetType, dataId: ["skymap": .string(name)], collections: [Self.skyMapRun], as: SkyMap.self)
    }

    private func writeSkyMapRecords(_ name: String, _ skymap: SkyMap) async throws -> (tracts: Int, patches: Int) {
        let registry = self.registry
        let skymapValue = SQLValue.text(name)
        let htm = registry.universe.commonPixelization
        return try await registry.database.write { session in
            // The skymap record first (tracts and patches require it); its maxima are known only
            // after every tract is built, so it is completed at the end.
            try registry.insertRecordsInBulk(
                session, element: "skymap",
                rows: [["name": skymapValue, "hash": .text(skymap.hash), "tract_max": .integer(Int64(skymap.tractCount))]],
                pixels: [nil])
            // Tracts in batches: the geometry of the next batch (WCS, polygons, encodings,
            // envelopes) is computed on another thread while this one's rows are written.
            let batch = Registry.bulkRowsPerStatement
            let batches = stride(from: 0, to: skymap.tractCount, by: batch).map { $0..<min(skymap.tractCount, $0 + batch) }
            var next = SkyMapRowBatch.start(batches.first, skymap: skymap, skymapValue: skymapValue, htm: htm)
            var patchCount = 0, nxMax = 0, nyMax = 0
            for index in batches.indices {
                let rows = try next!.wait()
                next = SkyMapRowBatch.start(
                    index + 1 < batches.count ? batches[index + 1] : nil, skymap: skymap, skymapValue: skymapValue, htm: htm)
                try registry.insertRecordsInBulk(session, element: "tract", rows: rows.tracts, pixels: rows.tractPixels)
                try registry.insertRecordsInBulk(session, element: "patch", rows: rows.patches, pixels: rows.patchPixels)
                patchCount += rows.patches.count
                nxMax = max(nxMax, rows.nxMax)
                nyMax = max(nyMax, rows.nyMax)
            }
            try session.execute(
                "UPDATE \(Registry.dimensionTable("skymap")) SET patch_nx_max = ?, patch_ny_max = ? WHERE name = ?",
                [.integer(Int64(nxMax)), .integer(Int64(nyMax)), skymapValue])
            return (skymap.tractCount, patchCount)
        }
    }
}

/// The registry rows of a range of tracts, computed on a global queue; `wait()` hands them over.
private final class SkyMapRowBatch: @unchecked Sendable {
    struct Rows {
        var tracts: [[String: SQLValue]] = [], tractPixels: [RangeSet?] = []
        var patches: [[String: SQLValue]] = [], patchPixels: [RangeSet?] = []
        var nxMax = 0, nyMax = 0
    }

    // Written by the worker before `group` is left, read after `wait`: the group orders them.
    private var result: Result<Rows, any Error> = .success(Rows())
    private let group = DispatchGroup()

    static func start(_ ids: Range<Int>?, skymap: SkyMap, skymapValue: SQLValue, htm: HTMPixelization) -> SkyMapRowBatch? {
        guard let ids else { return nil }
        let batch = SkyMapRowBatch()
        batch.group.enter()
        DispatchQueue.global().async {
            batch.result = Result { try Self.compute(ids, skymap: skymap, skymapValue: skymapValue, htm: htm) }
            batch.group.leave()
        }
        return batch
    }

    func wait() throws -> Rows {
        group.wait()
        return try result.get()
    }

    private static func compute(_ ids: Range<Int>, skymap: SkyMap, skymapValue: SQLValue, htm: HTMPixelization) throws -> Rows {
        var rows = Rows()
        for id in ids {
            let tract = try skymap.tract(id)
            rows.nxMax = max(rows.nxMax, tract.patchCountX)
            rows.nyMax = max(rows.nyMax, tract.patchCountY)
            let region = try tract.outerRegion
            rows.tracts.append(["skymap": skymapValue, "id": .integer(Int64(id)), "region": .text(region.base64)])
            rows.tractPixels.append(htm.envelope(region))
            for patch in tract.patches {
                let patchRegion = try patch.outerRegion
                rows.patches.append([
                    "skymap": skymapValue, "tract": .integer(Int64(id)), "id": .integer(Int64(patch.sequentialIndex)),
                    "cell_x": .integer(Int64(patch.x)), "cell_y": .integer(Int64(patch.y)), "region": .text(patchRegion.base64),
                ])
                rows.patchPixels.append(htm.envelope(patchRegion))
            }
        }
        return rows
    }
}

import ButlerTestSupport
import Composites
import Foundation
import Sky
import SkyMaps
import Testing

@testable import Butler

/// `registerSkyMap` on every engine: records and regions as the skymap computes them, patches of
/// a tract as iterable data IDs, spatial lookups agreeing with the skymap's own geometry, the
/// `skyMap` dataset, and the refusals of conflicting definitions.
@Suite("Skymap registration on every backend")
struct SkyMapRegistryTests {
    /// A field of six overlapping tracts of 4 × 4 patches (a rings skymap covers the whole sky,
    /// which at htm7 is 10⁶ overlap rows: that scale is the benchmark's), and a second skymap.
    static let field = try! SkyMap(
        .discrete(
            tracts: [(149, 1, 0.5), (150, 1, 0.5), (151, 1, 0.5), (149, 2, 0.5), (150, 2, 0.5), (151, 2, 0.5)], projection: .gnomonic,
            pixelScale: 1, tractOverlap: 0.05, patchInnerDimensions: [1000, 1000], patchBorder: 50))
    static let discrete = try! SkyMap(
        .discrete(tracts: [(150.1, 2.2, 0.8), (10, -45, 0.5)], projection: .gnomonic, pixelScale: 0.2, tractOverlap: 0.02))

    @Test(
        "records, regions and the skyMap dataset are what the skymap computes; registering again writes nothing",
        arguments: Backend.available)
    func register(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        let first = try await butler.registerSkyMap("field", Self.field)
        let tracts = try Self.field.tracts
        #expect(first.tracts == Self.field.tractCount && first.patches == tracts.map(\.patchCount).reduce(0, +) && first.wroteDataset)
        let record = try #require(try await butler.dimensionRecords("skymap").first)
        #expect(record["hash"].stringValue == Self.field.hash)
        #expect(record["tract_max"].intValue == Int64(Self.field.tractCount))
        let maxima = try Self.field.maximumPatchCounts
        #expect(record["patch_nx_max"].intValue == Int64(maxima.x) && record["patch_ny_max"].intValue == Int64(maxima.y))
        // Every tract's and a sample of patches' regions are the skymap's own outer polygons.
        let tractRecords = try await butler.dimensionRecords("tract", where: "skymap = 'field'")
        #expect(tractRecords.count == Self.field.tractCount)
        for tractRecord in tractRecords {
            let tract = tracts[Int(tractRecord["id"].intValue!)]
            #expect(tractRecord["region"].stringValue == (try tract.outerRegion).base64)
        }
        let patchRecords = try await butler.dimensionRecords("patch", where: "skymap = 'field' AND tract = 4")
        #expect(patchRecords.count == tracts[4].patchCount)
        for patchRecord in patchRecords {
            let patch = try tracts[4].patch(Int(patchRecord["id"].intValue!))
            #expect(patchRecord["cell_x"].intValue == Int64(patch.x) && patchRecord["cell_y"].intValue == Int64(patch.y))
            #expect(patchRecord["region"].stringValue == (try patch.outerRegion).base64)
        }
        // Patches of a tract are iterable data IDs.
        let ids = try await butler.queryDataIds(["patch"], where: "skymap = 'field' AND tract = 4")
        #expect(ids.map { $0["patch"]!.intValue! }.sorted() == (0..<Int64(tracts[4].patchCount)).map { $0 })
        // A point: the patches whose outer regions hold it, by query and by the skymap.
        var random = SplitMix64(state: 13)
        for _ in 0..<6 {
            let point = try LonLat(
                lonDegrees: Double.random(in: 148.6...151.4, using: &random), latDegrees: Double.random(in: 0.6...2.4, using: &random))
            let rows = try await butler.queryDataIds(
                ["tract", "patch"], where: "skymap = 'field' AND patch.region OVERLAPS POINT(\(point.lonDegrees), \(point.latDegrees))")
            var expected: [String] = []
            for tract in tracts {
                for patch in tract.patches where try patch.outerRegion.contains(point) {
                    expected.append("\(tract.id)/\(patch.sequentialIndex)")
                }
            }
            #expect(
                rows.map { "\($0["tract"]!.intValue!)/\($0["patch"]!.intValue!)" }.sorted() == expected.sorted(), "patches holding \(point)"
            )
            #expect(!expected.isEmpty)
        }
        // The skymap reads back.
        #expect(try await butler.skyMap("field") == Self.field)
        // Again: nothing written.
        let again = try await butler.registerSkyMap("field", Self.field)
        #expect(again.tracts == 0 && again.patches == 0 && !again.wroteDataset)
        #expect(try await butler.dimensionRecords("tract").count == Self.field.tractCount)
        // A second skymap beside it.
        let second = try await butler.registerSkyMap("cosmos", Self.discrete)
        #expect(second.tracts == 2)
        #expect(try await butler.queryDataIds(["tract"], where: "skymap = 'cosmos'").count == 2)
        #expect(try await butler.queryDataIds(["tract"], where: "skymap = 'field'").count == 6)
    }

    @Test("a different definition under a registered name, or the same under another name, is refused", arguments: Backend.available)
    func conflicts(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        try await butler.registerSkyMap("cosmos", Self.discrete)
        var changed = Self.discrete.configuration
        changed.patchBorder = 50
        do {
            try await butler.registerSkyMap("cosmos", try SkyMap(changed))
            Issue.record("a changed definition was accepted")
        } catch let error as ButlerError {
            #expect(error.code == .conflict && error.message.contains("cosmos") && error.message.contains(Self.discrete.hash))
        }
        do {
            try await butler.registerSkyMap("again", Self.discrete)
            Issue.record("the same skymap under a second name was accepted")
        } catch let error as ButlerError {
            #expect(error.code == .conflict && error.message.contains("'cosmos'"))
        }
        // Nothing of the refused registrations was written.
        #expect(try await butler.dimensionRecords("skymap").count == 1)
        #expect(try await butler.dimensionRecords("tract").count == 2)
    }
}

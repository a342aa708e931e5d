import ButlerTestSupport
import Composites
import Foundation
import Sky
import Testing

@testable import Butler

/// Reference catalogs sharded by htm7 on every engine: shards are the pixels of the rows, a
/// circle's rows equal a brute-force distance check, versions live in runs, bad rows are named.
@Suite("Reference catalogs on every backend")
struct ReferenceCatalogTests {
    /// `count` rows uniform in [148.5°, 152.5°] × [0°, 4°] with a flux column.
    static func catalog(count: Int, seed: UInt64, flux: Double) throws -> SourceCatalog {
        var generator = SplitMix64(state: seed)
        var ra: [Double] = [], dec: [Double] = [], fluxes: [Double] = []
        for _ in 0..<count {
            ra.append(148.5 + 4 * Double.random(in: 0..<1, using: &generator))
            dec.append(4 * Double.random(in: 0..<1, using: &generator))
            fluxes.append(flux + Double(fluxes.count))
        }
        return try SourceCatalog(columns: ["ra": ra, "dec": dec, "flux": fluxes])
    }

    @Test("shards by htm7, a circle's rows equal a brute-force check, versions by run", arguments: Backend.available)
    func shardsAndCircles(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        let catalog = try Self.catalog(count: 3000, seed: 7, flux: 100)
        let refs = try await butler.ingestReferenceCatalog("gaia", catalog: catalog, run: "refcats/gaia/v1")
        let htm7 = try HTMPixelization(level: 7)
        let pixels = Set(
            zip(catalog.columns["ra"]!, catalog.columns["dec"]!).map { htm7.index(of: try! LonLat(lonDegrees: $0, latDegrees: $1)) })
        #expect(refs.count == pixels.count && refs.count > 10)
        #expect(Set(refs.compactMap { $0.dataId["htm7"]?.intValue.map(UInt64.init) }) == pixels)
        for (ra, dec, radius) in [(150.5, 2.5, 0.7), (149.0, 0.2, 0.3), (152.4, 3.9, 1.5), (10.0, -40.0, 1.0)] {
            let center = try LonLat(lonDegrees: ra, latDegrees: dec)
            let circle = try Circle(lonDegrees: ra, latDegrees: dec, radiusDegrees: radius)
            let expected = catalog.columns["flux"]!.indices.filter { row in
                circle.contains(
                    UnitVector3d(try! LonLat(lonDegrees: catalog.columns["ra"]![row], latDegrees: catalog.columns["dec"]![row])))
            }.map { catalog.columns["flux"]![$0] }
            let found = try await butler.loadReferenceCatalog(
                "gaia", center: center, radiusDegrees: radius, collections: ["refcats/gaia/v1"])
            #expect(Set(found.columns["flux"] ?? []) == Set(expected), "circle \(ra), \(dec), \(radius)")
            // Columns come from the shards read; a circle meeting none has none.
            #expect(found.count == expected.count && (expected.isEmpty || Set(found.columns.keys) == ["ra", "dec", "flux"]))
        }
        // A second version in its own run; the chain decides which one a load sees.
        try await butler.ingestReferenceCatalog("gaia", catalog: try Self.catalog(count: 3000, seed: 7, flux: 5000), run: "refcats/gaia/v2")
        try await butler.setCollectionChain("refcats/gaia", children: ["refcats/gaia/v2", "refcats/gaia/v1"])
        let newer = try await butler.loadReferenceCatalog(
            "gaia", center: try LonLat(lonDegrees: 150.5, latDegrees: 2.5), radiusDegrees: 0.5, collections: ["refcats/gaia"])
        #expect(!newer.columns["flux"]!.isEmpty && newer.columns["flux"]!.allSatisfy { $0 >= 5000 })
        // Bad input is named: a missing position column, a row off the sphere, a bad radius.
        let noDec = await #expect(throws: ButlerError.self) {
            try await butler.ingestReferenceCatalog(
                "bad", catalog: try SourceCatalog(columns: ["ra": [1], "flux": [2]]), run: "refcats/bad")
        }
        #expect("\(noDec!)".contains("'dec'"))
        let offSphere = await #expect(throws: ButlerError.self) {
            try await butler.ingestReferenceCatalog(
                "bad", catalog: try SourceCatalog(columns: ["ra": [1, 2], "dec": [3, 95]]), run: "refcats/bad")
        }
        #expect("\(offSphere!)".contains("row 1") && "\(offSphere!)".contains("95"))
        await #expect(throws: ButlerError.self) {
            try await butler.loadReferenceCatalog("gaia", center: try LonLat(lonDegrees: 1, latDegrees: 1), radiusDegrees: -1)
        }
        try await butler.close()
    }
}

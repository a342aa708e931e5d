import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// FITS binary-table catalogs against astropy, run in the test: a table astropy writes (double,
/// float and 64-bit integer columns) reads here column for column, and one written here reads in
/// astropy value for value.
@Suite("FITS catalogs against astropy")
struct FitsCatalogTests {
    @Test("astropy's table reads here, ours reads in astropy; bad tables are named")
    func bothWays() throws {
        let directory = try TemporaryDirectory()
        let theirs = directory.url.appendingPathComponent("astropy.fits").path
        let written = try JSONDecoder().decode(
            [String: [Double]].self, from: try ReferencePython.run("fits_catalog.py", ["write", theirs]))
        let read = try FITSCatalog.read(from: theirs)
        #expect(read.columns == written && read.count == 257)
        let ours = directory.url.appendingPathComponent("ours.fits").path
        let catalog = try SourceCatalog(
            columns: ["ra": [10, 20.5, 359.999], "dec": [-89.5, 0, 45.25], "flux": [1e-30, 3.5, .greatestFiniteMagnitude]],
            photoCalib: PhotoCalib(calibrationMean: 0.5, calibrationErr: 0.01))
        try FITSCatalog.write(catalog, to: ours)
        let seen = try JSONDecoder().decode([String: [Double]].self, from: try ReferencePython.run("fits_catalog.py", ["read", ours]))
        #expect(seen == catalog.columns)
        #expect(try FITSCatalog.read(from: ours) == catalog)
        let empty = try SourceCatalog(columns: ["ra": [], "dec": []])
        try FITSCatalog.write(empty, to: ours)
        #expect(try FITSCatalog.read(from: ours).count == 0)
        // An image file holds no table: the error names the file.
        let image = directory.url.appendingPathComponent("image.fits").path
        try ExposureFITS.write(
            Exposure(maskedImage: MaskedImage<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(2, 2)))), to: image)
        let error = #expect(throws: (any Error).self) { try FITSCatalog.read(from: image) }
        #expect("\(error!)".contains("image.fits") && "\(error!)".contains("no binary table"))
    }
}

import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// Runs the Python interop script; astropy, h5py and numpy must be installed (the test
/// command installs them).
func runInteropScript(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/check_images.py")
    return try runPython([script.path] + arguments)
}

func rawBytes<P: ImagePixel>(_ pixels: [P]) -> Data {
    pixels.withUnsafeBytes { Data($0) }
}

@Suite("Interop with astropy and h5py", .serialized)
struct InteropTests {
    @Test(
        "every BITPIX, BZERO/BSCALE, blank and tile compression astropy writes, and astropy's own test images, read with astropy's pixels")
    func fitsZoo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fits-zoo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/make_fits_zoo.py")
        let made = try runPython([script.path, directory.path])
        try #require(made.status == 0, "\(made.output)")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
                as? [String: [String: Any]])
        #expect(manifest.count >= 29)
        for (name, info) in manifest.sorted(by: { $0.key < $1.key }) {
            let path = info["path"] as? String ?? directory.appendingPathComponent("\(name).fits").path
            let hduIndex = info["path"] == nil ? nil : info["hdu"] as? Int
            let expected = try Data(contentsOf: directory.appendingPathComponent("\(name).expected")).withUnsafeBytes {
                Array($0.bindMemory(to: Double.self))
            }
            // Read as the type astropy chose (its dtype), or the smallest in-memory pixel type
            // holding its values exactly (Int16 → Int32; UInt32 and Int64 → Double).
            func read<P: ImagePixel & BinaryInteger>(_ type: P.Type) throws -> ([Double], Int) {
                let image = try FITSImage<P>.read(from: path, hdu: hduIndex)
                return (image.image.pixels.map { Double($0) }, image.hdu)
            }
            func read<P: ImagePixel & BinaryFloatingPoint>(_ type: P.Type) throws -> ([Double], Int) {
                let image = try FITSImage<P>.read(from: path, hdu: hduIndex)
                return (image.image.pixels.map { Double($0) }, image.hdu)
            }
            let dtype = (info["dtype"] as? String ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "<>=|"))
            let (pixels, hdu): ([Double], Int)
            switch dtype {
            case "u1", "uint8": (pixels, hdu) = try read(UInt8.self)
            case "i1", "int8", "i2", "int16", "i4", "int32": (pixels, hdu) = try read(Int32.self)
            case "u2", "uint16": (pixels, hdu) = try read(UInt16.self)
            case "f4", "float32": (pixels, hdu) = try read(Float.self)
            default: (pixels, hdu) = try read(Double.self)
            }
            #expect(hdu == info["hdu"] as? Int, "\(name): HDU")
            #expect(pixels.count == expected.count, "\(name): pixel count")
            // astropy scales integers to float32 in float32 arithmetic (two roundings), cfitsio in
            // double (one): there, one float32 ulp apart is the same value.
            let scaled = info["scaledToFloat32"] as? Bool ?? false
            let differing = zip(pixels, expected).enumerated().filter { _, pair in
                let same = pair.0 == pair.1 || (pair.0.isNaN && pair.1.isNaN)
                return !same && !(scaled && Float(pair.1).nextUp == Float(pair.0) || scaled && Float(pair.1).nextDown == Float(pair.0))
            }
            #expect(
                differing.isEmpty,
                "\(name) (\(dtype)): \(differing.count) pixels differ from astropy's, first \(differing.prefix(3).map { "#\($0.offset): \($0.element.0) vs \($0.element.1)" })"
            )
        }
    }

    @Test("astropy reads our FITS (pixels, xy0, mask planes, TAN-SIP sky positions) and h5py our HDF5")
    func theyReadOurs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var exposure = try Fixtures.exposure(Float.self, width: 70, height: 50) { x, y in Float(x) * 0.5 + Float(y * y) * 1e-3 }
        var ap = SIPPolynomial(order: 3), bp = SIPPolynomial(order: 3)
        ap[2, 0] = -3.1e-6
        bp[0, 2] = 4.5e-6
        exposure.wcs?.sipAP = ap
        exposure.wcs?.sipBP = bp
        let planes: [String: (Data, String)] = [
            "IMAGE": (rawBytes(exposure.image.pixels), "<f4"),
            "MASK": (rawBytes(exposure.mask.image.pixels), "<i4"),
            "VARIANCE": (rawBytes(exposure.variance.pixels), "<f4"),
        ]
        var planeSpecs: [String: [String: String]] = [:]
        for (name, (bytes, dtype)) in planes {
            let raw = directory.appendingPathComponent("\(name).raw")
            try bytes.write(to: raw)
            planeSpecs[name] = ["raw": raw.path, "dtype": dtype]
        }
        let wcs = try #require(exposure.wcs)
        let sky = [Point2D(100, -20), Point2D(169, 29), Point2D(133.25, 4.5), Point2D(-500, 900)].map { parent -> [String: Any] in
            let position = wcs.pixelToSky(parent)
            return ["fitsPixel": [parent.x - 100 + 1, parent.y + 20 + 1], "ra": position.ra, "dec": position.dec]
        }
        var cases: [[String: Any]] = []
        for (index, compression) in [FITSCompression.none, FITSCompression(.gzip, tile: Extent2I(32, 16)), FITSCompression(.rice)]
            .enumerated()
        {
            let path = directory.appendingPathComponent("ours-\(index).fits").path
            try ExposureFITS.write(exposure, to: path, compression: compression)
            cases.append([
                "path": path, "format": "fits", "planes": planeSpecs, "width": 70, "height": 50,
                "xy0": [100, -20], "maskPlanes": exposure.mask.planes, "sky": sky,
            ])
        }
        let h5 = directory.appendingPathComponent("ours.h5").path
        try ExposureHDF5.write(exposure, to: h5, layout: HDF5Layout(chunk: Extent2I(32, 16), deflate: 3))
        cases.append([
            "path": h5, "format": "hdf5", "planes": planeSpecs, "width": 70, "height": 50,
            "xy0": [100, -20], "maskPlanes": exposure.mask.planes, "sky": sky,
        ])
        let manifest = directory.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: ["cases": cases]).write(to: manifest)
        let (status, output) = try runInteropScript(["verify", manifest.path])
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "\n").filter { $0.hasPrefix("ok ") }.count == 4, "\(output)")
    }

    @Test("our reader agrees with astropy on the afw-written files", arguments: [TestData.hscCalexp, TestData.smallExposure])
    func weReadTheirs(path: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try runInteropScript(["describe", path, directory.path])
        try #require(status == 0, "\(output)")
        let described = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: directory.appendingPathComponent("describe.json"))) as? [String: Any])
        let exposure = try ExposureFITS.read(Float.self, from: path)
        #expect(try Data(contentsOf: directory.appendingPathComponent("IMAGE.raw")) == rawBytes(exposure.image.pixels))
        #expect(try Data(contentsOf: directory.appendingPathComponent("MASK.raw")) == rawBytes(exposure.mask.image.pixels))
        #expect(try Data(contentsOf: directory.appendingPathComponent("VARIANCE.raw")) == rawBytes(exposure.variance.pixels))
        let maskPlanes = (described["maskPlanes"] as? [String: Int]) ?? [:]
        if !maskPlanes.isEmpty { #expect(maskPlanes == exposure.mask.planes) }
        let wcs = try #require(exposure.wcs)
        for check in described["sky"] as? [[String: Any]] ?? [] {
            let pixel = check["fitsPixel"] as! [Double]
            let ours = wcs.pixelToSky(Point2D(pixel[0] - 1 + Double(exposure.xy0.x), pixel[1] - 1 + Double(exposure.xy0.y)))
            #expect(abs(ours.ra - (check["ra"] as! Double)) < 1e-9, "RA at \(pixel)")
            #expect(abs(ours.dec - (check["dec"] as! Double)) < 1e-9, "Dec at \(pixel)")
        }
        if let calib = described["photoCalib"] as? [String: Double] {
            // Foundation's JSON number parser may round the last ulp: compare relatively.
            let ours = try #require(exposure.photoCalib)
            #expect(abs(ours.calibrationMean / calib["mean"]! - 1) < 1e-15)
            #expect(abs(ours.calibrationErr / calib["err"]! - 1) < 1e-14)
        }
        if let psf = described["psf"] as? [String: Any] {
            #expect(exposure.psf == .gaussian(sigma: psf["sigma"] as! Double, width: psf["width"] as! Int, height: psf["height"] as! Int))
        }
    }
}

@Suite("Any FITS image")
struct PlainFITSTests {
    @Test("astropy-written primary and compressed extension images read with their WCS and cards")
    func plainImages() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try runInteropScript(["make-plain", directory.path])
        try #require(status == 0, "\(output)")
        let primary = try FITSImage<Float>.read(from: directory.appendingPathComponent("primary.fits").path)
        #expect(primary.hdu == 0)
        #expect(primary.image.bbox.extent == Extent2I(53, 37))
        #expect(try Data(contentsOf: directory.appendingPathComponent("primary.raw")) == rawBytes(primary.image.pixels))
        #expect(primary.metadata["OBJECT"] == "plain primary")
        let wcs = try #require(primary.wcs)
        #expect(wcs.crpix == Point2D(19.5, 9.25) && wcs.crval == SpherePoint(ra: 45, dec: -30))
        let compressed = try FITSImage<Int32>.read(from: directory.appendingPathComponent("compressed.fits").path)
        #expect(compressed.hdu == 1 && compressed.wcs == nil)
        #expect(try Data(contentsOf: directory.appendingPathComponent("compressed.raw")) == rawBytes(compressed.image.pixels))
        #expect(compressed.metadata["OBJECT"] == "compressed extension")
        let wrong = #expect(throws: FITSError.self) { try FITSImage<Float>.read(from: TestData.sourceCatalog, hdu: 1) }
        #expect("\(wrong!)".contains("HDU 1 is not a 2-d image"))
    }
}

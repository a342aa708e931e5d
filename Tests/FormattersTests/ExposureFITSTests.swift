import Composites
import Formatters
import Foundation
import Testing

/// Builds test exposures with every component filled.
enum Fixtures {
    static func sipWcs() -> Wcs {
        var a = SIPPolynomial(order: 2), b = SIPPolynomial(order: 2)
        a[2, 0] = 3.1e-6
        a[1, 1] = -1.2e-6
        a[0, 2] = 2.2e-6
        b[2, 0] = -1.9e-6
        b[1, 1] = 4.1e-6
        b[0, 2] = -4.5e-6
        return Wcs(
            crpix: Point2D(1200.5, 1494.25), crval: SpherePoint(ra: 320.7294162660, dec: -0.3208228066),
            cd: [[1.591e-06, 4.4125e-05], [4.3586e-05, 1.532e-06]], sipA: a, sipB: b)
    }

    static func exposure<P: ImagePixel>(
        _ type: P.Type, width: Int = 40, height: Int = 30, xy0: Point2I = Point2I(100, -20),
        value: (Int, Int) -> P
    ) throws -> Exposure<P> {
        let box = Box2I(min: xy0, extent: Extent2I(width, height))
        var masked = MaskedImage<P>(bbox: box)
        for y in 0..<height {
            for x in 0..<width {
                masked.image[x, y] = value(x, y)
                masked.mask.image[x, y] = Int32((x * 7 + y) % 512)
                masked.variance[x, y] = Float(x) * 0.5 + Float(y) * 0.25 + 1
            }
        }
        var metadata = Metadata()
        metadata.set("OBSERVER", "Swift Butler tests")
        metadata.set("SKYLEVEL", .double(558.536499023438))
        metadata.set("NCOMBINE", .int(3))
        metadata.set("ISR_DONE", .bool(true))
        return Exposure(
            maskedImage: masked, wcs: sipWcs(), psf: .gaussian(sigma: 2.5, width: 21, height: 21),
            photoCalib: PhotoCalib(calibrationMean: 1.99408751, calibrationErr: 0.00034857),
            visitInfo: VisitInfo(
                exposureTime: 30, date: "2013-11-02T06:01:31.788500000", boresightRaDec: SpherePoint(ra: 320.25, dec: 0.25),
                boresightRotAngle: 270, boresightAirmass: 1.103, instrument: "HSC", id: 903334),
            metadata: metadata)
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fits-\(UUID().uuidString)-\(name)").path
    }
}

@Suite("Exposure FITS round trips")
struct ExposureFITSTests {
    static let compressions: [FITSCompression] = [
        .none, FITSCompression(.gzip, tile: Extent2I(16, 8)), FITSCompression(.rice, tile: Extent2I(16, 8)),
    ]

    func roundTrip<P: ImagePixel>(_ exposure: Exposure<P>, _ compression: FITSCompression) throws -> Exposure<P> {
        let path = Fixtures.temporaryPath("rt.fits")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ExposureFITS.write(exposure, to: path, compression: compression)
        return try ExposureFITS.read(P.self, from: path)
    }

    @Test("every pixel type round-trips exactly, compressed or not", arguments: compressions)
    func pixelTypes(compression: FITSCompression) throws {
        let float = try Fixtures.exposure(Float.self) { x, y in Float(x) * 1.25 - Float(y) * 0.003 + 1e-7 * Float(x * y) }
        #expect(try roundTrip(float, compression) == float)
        let double = try Fixtures.exposure(Double.self) { x, y in Double(x) / 3 + Double(y) * 1e-9 }
        #expect(try roundTrip(double, compression) == double)
        let int = try Fixtures.exposure(Int32.self) { x, y in Int32(x * 1000 - y * 77) }
        #expect(try roundTrip(int, compression) == int)
        let ushort = try Fixtures.exposure(UInt16.self) { x, y in UInt16((x * 1500 + y * 13) % 65536) }
        #expect(try roundTrip(ushort, compression) == ushort)
        let byte = try Fixtures.exposure(UInt8.self) { x, y in UInt8((x + y) % 256) }
        #expect(try roundTrip(byte, compression) == byte)
    }

    @Test("a kernel-image PSF and an exposure without components round-trip")
    func otherComponents() throws {
        var exposure = try Fixtures.exposure(Float.self) { x, _ in Float(x) }
        exposure.psf = .image(
            kernel: try Image(
                bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(3, 3)),
                pixels: [0.05, 0.1, 0.05, 0.1, 0.4, 0.1, 0.05, 0.1, 0.05]))
        #expect(try roundTrip(exposure, .none) == exposure)
        let bare = Exposure(maskedImage: exposure.maskedImage)
        var read = try roundTrip(bare, .none)
        read.metadata = Metadata()
        #expect(read == bare)
    }

    @Test("cutouts equal the subimage, keep xy0 and sky positions", arguments: compressions)
    func cutouts(compression: FITSCompression) throws {
        let exposure = try Fixtures.exposure(Float.self, width: 64, height: 48) { x, y in Float(x * 100 + y) }
        let path = Fixtures.temporaryPath("cut.fits")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ExposureFITS.write(exposure, to: path, compression: compression)
        let box = Box2I(x0: 110, y0: -15, x1: 130, y1: 5)
        let cutout = try ExposureFITS.read(Float.self, from: path, bbox: box)
        #expect(cutout.maskedImage == (try exposure.maskedImage.subimage(box)))
        #expect(cutout.xy0 == Point2I(110, -15))
        let pixel = Point2D(120.3, -2.7)
        #expect(cutout.wcs!.pixelToSky(pixel) == exposure.wcs!.pixelToSky(pixel))
        let outside = #expect(throws: FITSError.self) {
            try ExposureFITS.read(Float.self, from: path, bbox: Box2I(x0: 90, y0: 0, x1: 120, y1: 10))
        }
        #expect("\(outside!)".contains("(90, 0)–(120, 10)") && "\(outside!)".contains("(100, -20)–(163, 27)"))
    }

    @Test("the WCS is inverse to itself and parent-based")
    func wcsInverse() throws {
        let wcs = Fixtures.sipWcs()
        for pixel in [Point2D(0, 0), Point2D(2047.5, 4000.25), Point2D(-300, 17)] {
            let back = wcs.skyToPixel(wcs.pixelToSky(pixel))
            // RA near 320° carries ~3e-14° of rounding, ~1e-9 px at 0.16″/px: 1e-8 px is the floor.
            #expect(abs(back.x - pixel.x) < 1e-8 && abs(back.y - pixel.y) < 1e-8)
        }
        let tan = Wcs(crpix: Point2D(10, 10), crval: SpherePoint(ra: 359.99, dec: 89.9), cd: [[-1e-4, 0], [0, 1e-4]])
        let far = tan.pixelToSky(Point2D(500, -300))
        let back = tan.skyToPixel(far)
        #expect(abs(back.x - 500) < 1e-9 && abs(back.y + 300) < 1e-9)
        #expect(far.ra >= 0 && far.ra < 360)
    }
    @Test("header values parse as FITS defines them: quotes, blanks, logicals, integers, D exponents")
    func headerValues() throws {
        // A primary header written by hand, as other software writes it (cfitsio never
        // writes D exponents or doubled quotes in the ways below).
        let cards = [
            "SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0",
            "QUOTED  = 'O''Brien   '         / doubled quote, trailing blanks",
            "BLANKS  = '        '", "LOGICAL =                    F", "INTEGER =                  -42",
            "REAL    =              2.5E-03", "FORTRAN =              1.5D+03", "UNDEF   =", "END",
        ]
        var header = cards.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
        header += String(repeating: " ", count: 2880 - header.count)
        let path = Fixtures.temporaryPath("header.fits")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(header.utf8).write(to: URL(fileURLWithPath: path))
        let metadata = try FITSHeaders.read(from: path)
        #expect(metadata["QUOTED"] == .string("O'Brien"))
        #expect(metadata["BLANKS"] == .string(""))
        #expect(metadata["LOGICAL"] == .bool(false))
        #expect(metadata["INTEGER"] == .int(-42))
        #expect(metadata["REAL"] == .double(0.0025))
        #expect(metadata["FORTRAN"] == .double(1500))
        #expect(metadata["UNDEF"] == .null)
    }
}

import Composites
import Formatters
import Foundation
import Testing

@Suite("Exposure HDF5 round trips")
struct ExposureHDF5Tests {
    static let layouts = [HDF5Layout(), HDF5Layout(chunk: Extent2I(16, 8), deflate: 4)]

    func roundTrip<P: ImagePixel>(_ exposure: Exposure<P>, _ layout: HDF5Layout) throws -> Exposure<P> {
        let path = Fixtures.temporaryPath("rt.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ExposureHDF5.write(exposure, to: path, layout: layout)
        return try ExposureHDF5.read(P.self, from: path)
    }

    @Test("every pixel type and component round-trips exactly", arguments: layouts)
    func pixelTypes(layout: HDF5Layout) throws {
        let float = try Fixtures.exposure(Float.self) { x, y in Float(x) * 1.25 - Float(y) * 0.003 }
        #expect(try roundTrip(float, layout) == float)
        let double = try Fixtures.exposure(Double.self) { x, y in Double(x) / 3 + Double(y) * 1e-9 }
        #expect(try roundTrip(double, layout) == double)
        let int = try Fixtures.exposure(Int32.self) { x, y in Int32(x * 1000 - y * 77) }
        #expect(try roundTrip(int, layout) == int)
        let ushort = try Fixtures.exposure(UInt16.self) { x, y in UInt16((x * 1500 + y * 13) % 65536) }
        #expect(try roundTrip(ushort, layout) == ushort)
        var byte = try Fixtures.exposure(UInt8.self) { x, y in UInt8((x + y) % 256) }
        byte.psf = .image(kernel: try Image(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(3, 1)), pixels: [0.25, 0.5, 0.25]))
        #expect(try roundTrip(byte, layout) == byte)
    }

    @Test("hyperslab cutouts equal the subimage and keep xy0", arguments: layouts)
    func cutouts(layout: HDF5Layout) throws {
        let exposure = try Fixtures.exposure(Float.self, width: 64, height: 48) { x, y in Float(x * 100 + y) }
        let path = Fixtures.temporaryPath("cut.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ExposureHDF5.write(exposure, to: path, layout: layout)
        let box = Box2I(x0: 110, y0: -15, x1: 130, y1: 5)
        let cutout = try ExposureHDF5.read(Float.self, from: path, bbox: box)
        #expect(cutout.maskedImage == (try exposure.maskedImage.subimage(box)))
        #expect(cutout.wcs == exposure.wcs)
        let info = try ExposureHDF5.info(of: path)
        #expect(info.bbox == exposure.bbox && info.planes.map(\.pixelType) == ["Float32", "Int32", "Float32"])
        #expect(info.maskPlanes == exposure.mask.planes)
        let outside = #expect(throws: HDF5Error.self) {
            try ExposureHDF5.read(Float.self, from: path, bbox: Box2I(x0: 0, y0: 0, x1: 5, y1: 5))
        }
        #expect("\(outside!)".contains("not inside the image box"))
        let wrongType = #expect(throws: HDF5Error.self) { try ExposureHDF5.read(Int32.self, from: path) }
        #expect("\(wrongType!)".contains("Int32"))
    }
}

import Composites
import Testing

@Suite("Composite assemblers")
struct AssemblerTests {
    func exposure() throws -> Exposure<Float> {
        var masked = MaskedImage<Float>(bbox: Box2I(min: Point2I(5, 7), extent: Extent2I(4, 3)))
        masked.image.pixels = (0..<12).map(Float.init)
        var metadata = Metadata()
        metadata.set("OBJECT", "test")
        return Exposure(
            maskedImage: masked, wcs: Wcs(crpix: Point2D(1, 2), crval: SpherePoint(ra: 10, dec: 20), cd: [[1e-4, 0], [0, 1e-4]]),
            psf: .gaussian(sigma: 1.5, width: 5, height: 5), visitInfo: VisitInfo(exposureTime: 15), metadata: metadata)
    }

    @Test("an exposure disassembles into its stored components and assembles back")
    func roundTrip() throws {
        let assembler = ExposureAssembler<Float>(storageClass: "ExposureF")
        let original = try exposure()
        let parts = try assembler.disassemble(original)
        #expect(Set(parts.keys) == ["image", "mask", "variance", "metadata", "wcs", "psf", "visitInfo"])
        #expect(try assembler.assemble(parts) as? Exposure<Float> == original)
        #expect(try assembler.component("bbox", of: original) as? Box2I == original.bbox)
        #expect(assembler.sourceComponents(forDerived: "bbox") == ["image"])
        // A derived component needing several parts names them all: a read touches only those.
        #expect(assembler.sourceComponents(forDerived: "maskedImage") == ["image", "mask", "variance"])
        let planes = parts.filter { ["image", "mask", "variance"].contains($0.key) }
        #expect(try assembler.component("maskedImage", of: assembler.assemble(planes)) as? MaskedImage<Float> == original.maskedImage)
    }

    @Test("replacing a component checks its type; absent components are errors")
    func replacing() throws {
        let assembler = ExposureAssembler<Float>(storageClass: "ExposureF")
        let original = try exposure()
        let replaced = try assembler.replacing("photoCalib", with: PhotoCalib(calibrationMean: 3), in: original) as? Exposure<Float>
        #expect(replaced?.photoCalib == PhotoCalib(calibrationMean: 3))
        #expect(throws: StorageClassError.self) { try assembler.replacing("wcs", with: PhotoCalib(calibrationMean: 3), in: original) }
        #expect(throws: StorageClassError.self) { try assembler.component("photoCalib", of: original) }
        #expect(throws: StorageClassError.self) { try assembler.assemble(["wcs": original.wcs!]) }
    }
}

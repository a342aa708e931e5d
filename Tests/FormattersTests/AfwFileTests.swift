import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@Suite("Reading afw-written exposures")
struct AfwFileTests {
    @Test("the HSC calexp: planes, mask planes, TAN-SIP WCS, PhotoCalib, PSF, VisitInfo")
    func hscCalexp() throws {
        let exposure = try ExposureFITS.read(Float.self, from: TestData.hscCalexp)
        #expect(exposure.bbox == Box2I(min: Point2I(0, 0), extent: Extent2I(64, 32)))
        #expect(exposure.mask.planes["BAD"] == 0)
        #expect(exposure.mask.planes.count == 15)
        let wcs = try #require(exposure.wcs)
        #expect(wcs.crval == SpherePoint(ra: 320.729416266032, dec: -0.32082280660093))
        #expect(wcs.hasDistortion && wcs.sipA?.order == 3 && wcs.sipAP?.order == 4)
        #expect(abs(try #require(exposure.photoCalib).calibrationMean - 1.99408751) < 1e-8)
        #expect(abs(exposure.photoCalib!.calibrationErr - 0.00034857) < 1e-8)
        #expect(exposure.psf == .gaussian(sigma: 4.0, width: 3, height: 3))
        #expect(exposure.visitInfo?.exposureTime == 30)
        #expect(exposure.visitInfo?.date == "2013-11-02T06:01:31.788500000")
        #expect(exposure.metadata["FILTER"] == "HSC-I")
        let info = try ExposureFITS.info(of: TestData.hscCalexp)
        #expect(info.planes.map(\.pixelType) == ["Float32", "Int32", "Float32"])
        #expect(info.wcs == wcs)
    }

    @Test("the small daf_butler exposure without EXTNAMEs: planes by position, PSF through the archive")
    func smallExposure() throws {
        let exposure = try ExposureFITS.read(Float.self, from: TestData.smallExposure)
        #expect(exposure.bbox.extent == Extent2I(16, 16))
        #expect(exposure.psf == .gaussian(sigma: 4.0, width: 3, height: 3))
        #expect(exposure.wcs?.hasDistortion == false)
        #expect(abs(exposure.wcs!.crval.ra - 17.49404) < 1e-12)
        #expect(exposure.photoCalib == nil)
    }

    @Test("asking for the wrong pixel type is a clear error")
    func wrongPixelType() throws {
        let error = #expect(throws: FITSError.self) { try ExposureFITS.read(Double.self, from: TestData.hscCalexp) }
        #expect("\(error!)".contains("holds Float32 pixels, not Float64"))
        #expect("\(error!)".contains("obs_base_calexp_hsc_64x32.fits"))
    }
}

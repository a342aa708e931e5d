public import Foundation

/// The afw-written FITS files kept in `Tests/Fixtures/afw` (their README gives provenance):
/// the repository carries its own fixtures, so a clone anywhere runs its tests.
public enum TestData {
    /// `Tests/Fixtures/afw`, found from this source file's location.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/afw")
    /// A real Hyper Suprime-Cam calexp cutout (64×32, TAN-SIP WCS, afw archive with PSF and PhotoCalib).
    public static let hscCalexp = directory.appendingPathComponent("obs_base_calexp_hsc_64x32.fits").path
    /// A 16×16 afw ExposureF with a TAN WCS and a GaussianPsf in its archive.
    public static let smallExposure = directory.appendingPathComponent("daf_butler_small_exposure.fits").path
    /// A 3-row afw SourceCatalog (binary tables, no image).
    public static let sourceCatalog = directory.appendingPathComponent("daf_butler_source_catalog.fits").path
}

import Foundation

/// A spatially constant photometric calibration (afw's `PhotoCalib` with a constant field):
/// nJy per instrumental flux unit.
public struct PhotoCalib: Sendable, Hashable, Codable {
    /// nJy per count.
    public var calibrationMean: Double
    /// Uncertainty of the mean.
    public var calibrationErr: Double

    /// A calibration of `mean` ± `err` nJy per count.
    public init(calibrationMean: Double, calibrationErr: Double = 0) {
        self.calibrationMean = calibrationMean
        self.calibrationErr = calibrationErr
    }

    /// The AB magnitude of 1 nJy's zero point: 31.4 (since 3631 Jy is magnitude 0).
    public static let nanojanskyZeroPoint = 2.5 * log10(3631e9)

    /// Calibrated flux and its error (nJy), propagating the calibration error as afw does.
    public func instFluxToNanojansky(_ instFlux: Double, error instFluxErr: Double = 0) -> (value: Double, error: Double) {
        let value = instFlux * calibrationMean
        let relative = (instFlux == 0 ? 0 : pow(instFluxErr / instFlux, 2)) + pow(calibrationErr / calibrationMean, 2)
        return (value, abs(value) * relative.squareRoot())
    }

    /// AB magnitude and its error.
    public func instFluxToMagnitude(_ instFlux: Double, error instFluxErr: Double = 0) -> (value: Double, error: Double) {
        let (flux, fluxErr) = instFluxToNanojansky(instFlux, error: instFluxErr)
        return (-2.5 * log10(flux) + Self.nanojanskyZeroPoint, 2.5 / log(10) * fluxErr / flux)
    }
}

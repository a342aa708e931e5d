public import Composites
import Foundation

/// How pixel values become gray levels in a preview (`butler get … -o cut.png --stretch …`).
public enum ImageStretch: String, Sendable, CaseIterable {
    /// Linear between the smallest and largest finite values.
    case linear
    /// Linear between IRAF's zscale limits (astropy's `ZScaleInterval`, ds9's default): the
    /// sky's noise spread over the gray levels, stars saturated.
    case zscale
    /// astropy's `AsinhStretch` (a = 0.1) between the smallest and largest finite values:
    /// faint structure and bright stars both visible.
    case asinh

    /// The gray levels of `values` (`width × height`, first row at the bottom as astronomy
    /// images store them), top row first as PNG wants; NaN and infinities are black.
    public func grayLevels(_ values: [Double], width: Int, height: Int) -> [UInt8] {
        let (low, high) = self == .zscale ? Self.zscaleLimits(values) : Self.finiteRange(values)
        let span = high > low ? high - low : 1
        let a = 0.1
        var gray = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            let source = (height - 1 - y) * width
            for x in 0..<width {
                let value = values[source + x]
                guard value.isFinite else { continue }
                var level = min(max((value - low) / span, 0), 1)
                if self == .asinh { level = Foundation.asinh(level / a) / Foundation.asinh(1 / a) }
                gray[y * width + x] = UInt8((level * 255).rounded())
            }
        }
        return gray
    }

    /// A preview PNG of an image.
    public func preview<P: ImagePixel>(_ image: Image<P>) -> GrayscalePNG {
        let values = image.pixels.map(\.doubleValue)
        return GrayscalePNG(width: image.width, height: image.height, pixels: grayLevels(values, width: image.width, height: image.height))
    }

    static func finiteRange(_ values: [Double]) -> (Double, Double) {
        var low = Double.infinity
        var high = -Double.infinity
        for value in values where value.isFinite {
            low = min(low, value)
            high = max(high, value)
        }
        return low <= high ? (low, high) : (0, 1)
    }

    /// IRAF's zscale, step for step as astropy's `ZScaleInterval` (1000 samples, contrast
    /// 0.25, at most half the samples rejected, 2.5 σ, 5 iterations): a line fitted to the
    /// sorted samples with outliers rejected, its slope divided by the contrast, around the
    /// median. Checked against astropy in the test run.
    public static func zscaleLimits(
        _ values: [Double], samples count: Int = 1000, contrast: Double = 0.25, maxReject: Double = 0.5, minPixels: Int = 5,
        rejection: Double = 2.5, iterations: Int = 5
    ) -> (Double, Double) {
        // Every `stride`-th finite value, without copying the image's finite values first.
        let finiteCount = values.reduce(0) { $0 + ($1.isFinite ? 1 : 0) }
        guard finiteCount > 0 else { return (0, 1) }
        let stride = max(1, finiteCount / count)
        var samples: [Double] = []
        samples.reserveCapacity(min(count, finiteCount))
        var seen = 0
        for value in values where value.isFinite {
            if seen % stride == 0 { samples.append(value) }
            seen += 1
            if samples.count == count { break }
        }
        samples.sort()
        let n = samples.count
        var low = samples[0]
        var high = samples[n - 1]
        let center = (n - 1) / 2
        let median = n % 2 == 1 ? samples[center] : 0.5 * (samples[center] + samples[center + 1])
        let minimum = max(minPixels, Int(Double(n) * maxReject))
        let grow = max(1, Int(Double(n) * 0.01))
        var bad = [Bool](repeating: false, count: n)
        var good = n
        var lastGood = n + 1
        var slope = 0.0
        for _ in 0..<iterations {
            if good >= lastGood || good < minimum { break }
            // Least squares line through the good samples (x = index).
            var (sw, sx, sy, sxx, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
            for index in 0..<n where !bad[index] {
                let x = Double(index)
                sw += 1
                sx += x
                sy += samples[index]
                sxx += x * x
                sxy += x * samples[index]
            }
            let denominator = sw * sxx - sx * sx
            slope = denominator == 0 ? 0 : (sw * sxy - sx * sy) / denominator
            let intercept = (sy - slope * sx) / sw
            var residuals: [Double] = []
            var flat = [Double](repeating: 0, count: n)
            for index in 0..<n {
                flat[index] = samples[index] - (slope * Double(index) + intercept)
                if !bad[index] { residuals.append(flat[index]) }
            }
            let mean = residuals.reduce(0, +) / Double(residuals.count)
            let deviation = (residuals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(residuals.count)).squareRoot()
            let threshold = rejection * deviation
            for index in 0..<n where flat[index] < -threshold || flat[index] > threshold { bad[index] = true }
            // Rejected samples take their neighbours with them (numpy's convolve, mode "same").
            let offset = (grow - 1) / 2
            var grown = [Bool](repeating: false, count: n)
            for index in 0..<n {
                let first = index + offset - (grow - 1)
                for neighbour in max(0, first)...min(n - 1, index + offset) where bad[neighbour] {
                    grown[index] = true
                    break
                }
            }
            bad = grown
            lastGood = good
            good = bad.lazy.filter { !$0 }.count
        }
        if good >= minimum {
            if contrast > 0 { slope /= contrast }
            low = max(low, median - Double(center - 1) * slope)
            high = min(high, median + Double(n - center) * slope)
        }
        return (low, high)
    }
}

/// Limits on values read from files, so that a corrupted header cannot make a reader allocate
/// absurd amounts of memory or overflow an integer conversion.
enum FileLimits {
    /// The largest image axis accepted (pixels).
    static let maxAxis = 1 << 20
    /// The most pixels one plane may hold (2³⁰, a 4 GiB float plane; LSST's largest images
    /// are ~10⁸ pixels): each axis may pass `maxAxis` while their product asks for terabytes.
    static let maxPixels = 1 << 30
    /// The largest |xy0| coordinate accepted.
    static let maxOrigin = 1 << 40
    /// The largest SIP order accepted.
    static let maxSIPOrder = 20

    /// `value` as an Int if it is finite, integral and inside `range`.
    static func int(_ value: Double?, in range: ClosedRange<Int>) -> Int? {
        guard let value, value.isFinite, value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound)
        else {
            return nil
        }
        return Int(value)
    }

    /// `value` as an Int if inside `range`.
    static func int(_ value: Int64?, in range: ClosedRange<Int>) -> Int? {
        guard let value, value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else { return nil }
        return Int(value)
    }

    /// A reason to refuse an image of these axes, or nil when it is within limits.
    static func refusal(axes: [Int]) -> String? {
        // An empty image (an axis of 0, as in astropy's zerowidth.fits) holds no pixels to
        // allocate, whatever the other axis says.
        if axes.contains(0) && !axes.contains(where: { $0 < 0 }) { return nil }
        if let bad = axes.first(where: { $0 < 0 || $0 > maxAxis }) {
            return "image axis of \(bad) pixels is out of range (0…\(maxAxis))"
        }
        var total = 1
        for axis in axes {
            let (product, overflow) = total.multipliedReportingOverflow(by: axis)
            if overflow || product > maxPixels {
                return "image of \(axes.map(String.init).joined(separator: "×")) pixels exceeds \(maxPixels) pixels"
            }
            total = product
        }
        return nil
    }
}

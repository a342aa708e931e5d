import Foundation

/// A point-spread function model: a Gaussian (as afw's `GaussianPsf`) or a pixelised kernel
/// image that is the same everywhere.
public enum Psf: Sendable, Hashable, Codable {
    /// A circular Gaussian of `sigma` pixels, realised on a `width` × `height` kernel.
    case gaussian(sigma: Double, width: Int, height: Int)
    /// A fixed kernel image (normalised on use), centred on its middle pixel.
    case image(kernel: Image<Double>)

    /// The Gaussian-equivalent width in pixels (for a kernel image: from its second moments).
    public var sigma: Double {
        switch self {
        case .gaussian(let sigma, _, _): return sigma
        case .image(let kernel):
            let normalised = Self.normalise(kernel)
            let cx = Double(kernel.width - 1) / 2, cy = Double(kernel.height - 1) / 2
            var moment = 0.0
            for y in 0..<kernel.height {
                for x in 0..<kernel.width {
                    let dx = Double(x) - cx, dy = Double(y) - cy
                    moment += normalised[x, y] * (dx * dx + dy * dy)
                }
            }
            return (moment / 2).squareRoot()
        }
    }

    /// The kernel size.
    public var dimensions: Extent2I {
        switch self {
        case .gaussian(_, let width, let height): return Extent2I(width, height)
        case .image(let kernel): return kernel.bbox.extent
        }
    }

    /// The normalised kernel image at a position (the same everywhere for these models),
    /// centred on pixel (0, 0): its box runs from −width/2 to +width/2.
    public func kernelImage(at point: Point2D = Point2D(0, 0)) -> Image<Double> {
        switch self {
        case .gaussian(let sigma, let width, let height):
            let box = Box2I(min: Point2I(-(width / 2), -(height / 2)), extent: Extent2I(width, height))
            var image = Image<Double>(bbox: box)
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Double(x + box.min.x), dy = Double(y + box.min.y)
                    image[x, y] = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                }
            }
            return Self.normalise(image)
        case .image(let kernel):
            var image = Self.normalise(kernel)
            image.xy0 = Point2I(-(kernel.width / 2), -(kernel.height / 2))
            return image
        }
    }

    static func normalise(_ image: Image<Double>) -> Image<Double> {
        let total = image.pixels.reduce(0, +)
        guard total != 0 else { return image }
        var copy = image
        copy.pixels = image.pixels.map { $0 / total }
        return copy
    }
}

extension Image: Codable where Pixel: Codable {
    private enum CodingKeys: String, CodingKey { case bbox, pixels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(bbox: try container.decode(Box2I.self, forKey: .bbox), pixels: try container.decode([Pixel].self, forKey: .pixels))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bbox, forKey: .bbox)
        try container.encode(pixels, forKey: .pixels)
    }
}

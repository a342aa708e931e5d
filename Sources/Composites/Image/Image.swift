/// A pixel type images can hold: LSST's F, D, I, U and 8-bit images.
public protocol PixelValue: Sendable, Hashable, Codable, Numeric {
    /// The name used in storage class names and `image-info` (`Float32`, `Int32`, …).
    static var pixelTypeName: String { get }
}

extension Float: PixelValue { public static var pixelTypeName: String { "Float32" } }
extension Double: PixelValue { public static var pixelTypeName: String { "Float64" } }
extension Int32: PixelValue { public static var pixelTypeName: String { "Int32" } }
extension UInt16: PixelValue { public static var pixelTypeName: String { "UInt16" } }
extension UInt8: PixelValue { public static var pixelTypeName: String { "UInt8" } }

/// Errors from image geometry: the messages name the boxes involved.
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public let message: String
    /// Describes the problem.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A 2-d image: contiguous row-major pixels and the box it occupies in its parent
/// (`bbox.min` is LSST's `xy0`).
public struct Image<Pixel: PixelValue>: Sendable, Hashable {
    /// The pixels' box in parent coordinates.
    public private(set) var bbox: Box2I
    /// Row-major pixels: `pixels[y * width + x]` in local coordinates.
    public var pixels: [Pixel]

    /// An image of `bbox` filled with `value`.
    public init(bbox: Box2I, fill value: Pixel = .zero) {
        self.bbox = bbox
        self.pixels = Array(repeating: value, count: bbox.area)
    }

    /// An image of `bbox` holding `pixels` (row-major, `bbox.area` of them).
    public init(bbox: Box2I, pixels: [Pixel]) throws {
        guard pixels.count == bbox.area else {
            throw ImageError("an image of \(bbox.extent) needs \(bbox.area) pixels, got \(pixels.count)")
        }
        self.bbox = bbox
        self.pixels = pixels
    }

    /// An image of `width` × `height` at the origin.
    public init(width: Int, height: Int, fill value: Pixel = .zero) {
        self.init(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(width, height)), fill: value)
    }

    /// The parent coordinates of the first pixel.
    public var xy0: Point2I {
        get { bbox.min }
        set { bbox = Box2I(min: newValue, extent: bbox.extent) }
    }

    /// Columns.
    public var width: Int { bbox.width }
    /// Rows.
    public var height: Int { bbox.height }

    /// The pixel at local (`x`, `y`).
    public subscript(x: Int, y: Int) -> Pixel {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The pixel at a parent-coordinate position.
    public subscript(parent point: Point2I) -> Pixel {
        get { self[point.x - bbox.min.x, point.y - bbox.min.y] }
        set { self[point.x - bbox.min.x, point.y - bbox.min.y] = newValue }
    }

    /// The box `box` (read in `origin` coordinates) as a box in parent coordinates, checked
    /// to lie inside the image.
    public func parentBox(_ box: Box2I, origin: ImageOrigin) throws -> Box2I {
        let parent = origin == .parent ? box : box.shifted(dx: bbox.min.x, dy: bbox.min.y)
        guard !parent.isEmpty, bbox.contains(parent) else {
            throw ImageError("cutout box \(box) (\(origin.rawValue) coordinates) is not inside the image box \(bbox)")
        }
        return parent
    }

    /// A copy of the pixels in `box`; its `xy0` is the box's parent corner.
    public func subimage(_ box: Box2I, origin: ImageOrigin = .parent) throws -> Image {
        let parent = try parentBox(box, origin: origin)
        var result = [Pixel]()
        result.reserveCapacity(parent.area)
        let x0 = parent.min.x - bbox.min.x
        for row in (parent.min.y - bbox.min.y)...(parent.max.y - bbox.min.y) {
            let start = row * width + x0
            result.append(contentsOf: pixels[start..<start + parent.width])
        }
        return try Image(bbox: parent, pixels: result)
    }
}

/// An integer mask with named bit planes (`BAD` → bit 0, `SAT` → bit 1, …).
public struct Mask: Sendable, Hashable {
    /// The bits.
    public var image: Image<Int32>
    /// Plane name → bit index.
    public var planes: [String: Int]

    /// LSST's default planes and their bits.
    public static let defaultPlanes: [String: Int] = [
        "BAD": 0, "SAT": 1, "INTRP": 2, "CR": 3, "EDGE": 4, "DETECTED": 5, "DETECTED_NEGATIVE": 6,
        "SUSPECT": 7, "NO_DATA": 8,
    ]

    /// An empty mask of `bbox` with `planes`.
    public init(bbox: Box2I, planes: [String: Int] = Mask.defaultPlanes) {
        self.image = Image(bbox: bbox, fill: 0)
        self.planes = planes
    }

    /// A mask from bits and planes.
    public init(image: Image<Int32>, planes: [String: Int]) {
        self.image = image
        self.planes = planes
    }

    /// The bit value of a plane.
    public func bitMask(_ plane: String) throws -> Int32 {
        guard let bit = planes[plane] else {
            throw ImageError("mask has no plane '\(plane)'; planes: \(planes.keys.sorted().joined(separator: ", "))")
        }
        return Int32(1) << Int32(bit)
    }

    /// Whether `plane` is set at local (`x`, `y`).
    public func isSet(_ plane: String, x: Int, y: Int) throws -> Bool {
        image[x, y] & (try bitMask(plane)) != 0
    }

    /// Sets `plane` at local (`x`, `y`).
    public mutating func set(_ plane: String, x: Int, y: Int) throws {
        image[x, y] |= try bitMask(plane)
    }

    /// The mask within `box`.
    public func subimage(_ box: Box2I, origin: ImageOrigin = .parent) throws -> Mask {
        Mask(image: try image.subimage(box, origin: origin), planes: planes)
    }
}

/// Image, mask and variance planes sharing one box.
public struct MaskedImage<Pixel: PixelValue>: Sendable, Equatable {
    /// The science pixels.
    public var image: Image<Pixel>
    /// Per-pixel flags.
    public var mask: Mask
    /// Per-pixel variance.
    public var variance: Image<Float>

    /// Planes that must share a box.
    public init(image: Image<Pixel>, mask: Mask, variance: Image<Float>) throws {
        guard image.bbox == mask.image.bbox, image.bbox == variance.bbox else {
            throw ImageError("image \(image.bbox), mask \(mask.image.bbox) and variance \(variance.bbox) boxes differ")
        }
        self.image = image
        self.mask = mask
        self.variance = variance
    }

    /// Empty planes over `bbox`.
    public init(bbox: Box2I) {
        image = Image(bbox: bbox)
        mask = Mask(bbox: bbox)
        variance = Image(bbox: bbox)
    }

    /// The shared box.
    public var bbox: Box2I { image.bbox }

    /// The three planes within `box`.
    public func subimage(_ box: Box2I, origin: ImageOrigin = .parent) throws -> MaskedImage {
        try MaskedImage(
            image: image.subimage(box, origin: origin), mask: mask.subimage(box, origin: origin),
            variance: variance.subimage(box, origin: origin))
    }
}

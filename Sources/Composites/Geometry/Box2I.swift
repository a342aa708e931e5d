/// An integer pixel position, in LSST's 0-based convention: pixel (0, 0) is centred on
/// coordinate (0.0, 0.0), so the FITS pixel (1, 1) is LSST pixel (0, 0).
public struct Point2I: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Column.
    public var x: Int
    /// Row.
    public var y: Int

    /// A point at (`x`, `y`).
    public init(_ x: Int, _ y: Int) {
        self.x = x
        self.y = y
    }

    public var description: String { "(\(x), \(y))" }
}

/// A size in pixels.
public struct Extent2I: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Number of columns.
    public var width: Int
    /// Number of rows.
    public var height: Int

    /// An extent of `width` × `height`.
    public init(_ width: Int, _ height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)×\(height)" }
}

/// An integer box with inclusive corners (LSST `Box2I`): `Box2I(min: (0, 0), max: (9, 9))`
/// is 10 × 10 pixels. An empty box has `max < min` on some axis.
public struct Box2I: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The lowest corner (inclusive).
    public var min: Point2I
    /// The highest corner (inclusive).
    public var max: Point2I

    /// A box from inclusive corners.
    public init(min: Point2I, max: Point2I) {
        self.min = min
        self.max = max
    }

    /// A box of `extent` starting at `min`.
    public init(min: Point2I, extent: Extent2I) {
        self.min = min
        self.max = Point2I(min.x + extent.width - 1, min.y + extent.height - 1)
    }

    /// A box from inclusive corner coordinates `x0, y0, x1, y1` (the CLI's `--bbox`).
    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        self.init(min: Point2I(x0, y0), max: Point2I(x1, y1))
    }

    /// Columns covered.
    public var width: Int { Swift.max(0, max.x - min.x + 1) }
    /// Rows covered.
    public var height: Int { Swift.max(0, max.y - min.y + 1) }
    /// Width and height.
    public var extent: Extent2I { Extent2I(width, height) }
    /// Pixel count.
    public var area: Int { width * height }
    /// True when the box covers no pixel.
    public var isEmpty: Bool { max.x < min.x || max.y < min.y }

    /// Whether the pixel is inside.
    public func contains(_ point: Point2I) -> Bool {
        point.x >= min.x && point.x <= max.x && point.y >= min.y && point.y <= max.y
    }

    /// Whether `other` lies entirely inside.
    public func contains(_ other: Box2I) -> Bool {
        other.isEmpty || (contains(other.min) && contains(other.max))
    }

    /// The overlap of two boxes (possibly empty).
    public func intersection(_ other: Box2I) -> Box2I {
        Box2I(
            min: Point2I(Swift.max(min.x, other.min.x), Swift.max(min.y, other.min.y)),
            max: Point2I(Swift.min(max.x, other.max.x), Swift.min(max.y, other.max.y)))
    }

    /// The box moved by (`dx`, `dy`).
    public func shifted(dx: Int, dy: Int) -> Box2I {
        Box2I(min: Point2I(min.x + dx, min.y + dy), max: Point2I(max.x + dx, max.y + dy))
    }

    /// `(minX, minY)–(maxX, maxY)` with inclusive corners.
    public var description: String { "(\(min.x), \(min.y))–(\(max.x), \(max.y))" }
}

/// How a box given to a cutout is read: relative to the parent image (LSST's default) or to
/// the image's own first pixel.
public enum ImageOrigin: String, Sendable, Codable, CaseIterable {
    /// Coordinates in the parent frame, so a cutout keeps its sky position (`xy0` applies).
    case parent
    /// Coordinates relative to the image's first pixel.
    case local
}

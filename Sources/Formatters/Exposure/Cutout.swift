public import Composites

/// The one cutout rule every image reader follows: a requested box, in parent coordinates
/// (LSST's default, so a cutout keeps its sky position) or relative to the first pixel, must
/// lie inside the image; the reader reads `local` and labels the result with `region`.
public struct Cutout: Sendable, Hashable {
    /// The part read, in parent coordinates (the result's bbox).
    public let region: Box2I
    /// The same part relative to the image's first pixel (what a file read addresses).
    public let local: Box2I
    /// Whether the whole image was asked for (no box given).
    public let isWhole: Bool

    /// The cutout of an image occupying `imageBox` (parent coordinates) that `requested`
    /// describes in `origin` coordinates; the whole image when `requested` is nil.
    /// - Throws: ``CutoutError`` naming both boxes when the request is empty or not inside.
    public init(_ requested: Box2I?, origin: ImageOrigin, imageBox: Box2I) throws(CutoutError) {
        let xy0 = imageBox.min
        guard let requested else {
            self.region = imageBox
            self.local = imageBox.shifted(dx: -xy0.x, dy: -xy0.y)
            self.isWhole = true
            return
        }
        let parent = origin == .parent ? requested : requested.shifted(dx: xy0.x, dy: xy0.y)
        guard !parent.isEmpty, imageBox.contains(parent) else {
            throw CutoutError(requested: requested, origin: origin, imageBox: imageBox)
        }
        self.region = parent
        self.local = parent.shifted(dx: -xy0.x, dy: -xy0.y)
        self.isWhole = false
    }
}

/// A cutout box that is empty or not inside the image.
public struct CutoutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The box as given.
    public let requested: Box2I
    /// The coordinates it was given in.
    public let origin: ImageOrigin
    /// The image's box in parent coordinates.
    public let imageBox: Box2I

    public var description: String {
        "cutout box \(requested) (\(origin.rawValue) coordinates) is not inside the image box \(imageBox)"
    }
}

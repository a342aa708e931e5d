public import Composites

/// What an Exposure file (FITS or HDF5) holds, read from headers, attributes and tables only
/// (no pixels): what `butler image-info` prints.
public struct ExposureFileInfo: Sendable, Codable, Equatable {
    /// One pixel plane.
    public struct Plane: Sendable, Codable, Equatable {
        /// `IMAGE`, `MASK` or `VARIANCE`.
        public var name: String
        /// 0-based HDU index (FITS) or position among the planes (HDF5).
        public var hdu: Int
        /// Pixel type after scaling (`Float32`, `Int32`…).
        public var pixelType: String
        /// Whether the plane is tile-compressed.
        public var compressed: Bool
    }
    /// The pixel planes found.
    public var planes: [Plane]
    /// The image box in parent coordinates (its `min` is `xy0`).
    public var bbox: Box2I
    /// The celestial WCS, if any.
    public var wcs: Wcs?
    /// Mask plane name → bit.
    public var maskPlanes: [String: Int]
    /// The PSF, if a supported model is stored.
    public var psf: Psf?
    /// The photometric calibration, if stored.
    public var photoCalib: PhotoCalib?
    /// The visit information, if any of its keys are present.
    public var visitInfo: VisitInfo?
}

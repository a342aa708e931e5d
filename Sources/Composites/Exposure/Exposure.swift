/// An image with everything needed to use it: masked pixels plus optional WCS, PSF,
/// photometric calibration, visit information and header metadata (afw's `Exposure`).
public struct Exposure<Pixel: PixelValue>: Sendable, Equatable {
    /// Image, mask and variance.
    public var maskedImage: MaskedImage<Pixel>
    /// Pixel ↔ sky mapping in parent coordinates.
    public var wcs: Wcs?
    /// Point-spread function.
    public var psf: Psf?
    /// Photometric calibration.
    public var photoCalib: PhotoCalib?
    /// Observation description.
    public var visitInfo: VisitInfo?
    /// Header cards not represented elsewhere.
    public var metadata: Metadata

    /// An exposure from its parts.
    public init(
        maskedImage: MaskedImage<Pixel>, wcs: Wcs? = nil, psf: Psf? = nil, photoCalib: PhotoCalib? = nil,
        visitInfo: VisitInfo? = nil, metadata: Metadata = Metadata()
    ) {
        self.maskedImage = maskedImage
        self.wcs = wcs
        self.psf = psf
        self.photoCalib = photoCalib
        self.visitInfo = visitInfo
        self.metadata = metadata
    }

    /// The image plane.
    public var image: Image<Pixel> { maskedImage.image }
    /// The mask plane.
    public var mask: Mask { maskedImage.mask }
    /// The variance plane.
    public var variance: Image<Float> { maskedImage.variance }
    /// The pixels' box in parent coordinates.
    public var bbox: Box2I { maskedImage.bbox }
    /// The parent position of the first pixel.
    public var xy0: Point2I { maskedImage.bbox.min }

    /// The exposure within `box`: pixels copied, components shared. The WCS is in parent
    /// coordinates, so a pixel has the same sky position in the cutout and the full image.
    public func subimage(_ box: Box2I, origin: ImageOrigin = .parent) throws -> Exposure {
        var copy = self
        copy.maskedImage = try maskedImage.subimage(box, origin: origin)
        return copy
    }
}

extension Exposure {
    /// A stored or derived component by its daf_butler name (`wcs`, `bbox`, `image`…).
    /// - Throws: ``StorageClassError`` for an unknown name or a component that is not set.
    public func component(_ name: String, storageClass: String = "Exposure") throws -> any Sendable {
        func required<T: Sendable>(_ value: T?) throws -> any Sendable {
            guard let value else { throw StorageClassError.absentComponent(name, storageClass: storageClass) }
            return value
        }
        switch name {
        case "image": return image
        case "mask": return mask
        case "variance": return variance
        case "maskedImage": return maskedImage
        case "wcs": return try required(wcs)
        case "psf": return try required(psf)
        case "photoCalib": return try required(photoCalib)
        case "visitInfo": return try required(visitInfo)
        case "metadata": return metadata
        case "bbox": return bbox
        case "dimensions": return bbox.extent
        case "xy0": return xy0
        default:
            throw StorageClassError.unknownComponent(
                name, storageClass: storageClass,
                known: [
                    "bbox", "dimensions", "image", "mask", "maskedImage", "metadata", "photoCalib", "psf", "variance", "visitInfo", "wcs",
                    "xy0",
                ])
        }
    }
}

extension Exposure {
    /// Replaces a stored component (`wcs`, `psf`, `photoCalib`, `visitInfo`, `metadata`, or a
    /// pixel plane of the same box) with `value`.
    /// - Throws: ``StorageClassError`` when the name is unknown or the value has another type.
    public mutating func setComponent(_ name: String, to value: any Sendable, storageClass: String = "Exposure") throws {
        func typed<T>(_ type: T.Type) throws -> T {
            guard let typed = value as? T else {
                throw StorageClassError.wrongType("\(storageClass).\(name)", expected: "\(T.self)", got: "\(Swift.type(of: value))")
            }
            return typed
        }
        switch name {
        case "wcs": wcs = try typed(Wcs.self)
        case "psf": psf = try typed(Psf.self)
        case "photoCalib": photoCalib = try typed(PhotoCalib.self)
        case "visitInfo": visitInfo = try typed(VisitInfo.self)
        case "metadata": metadata = try typed(Metadata.self)
        case "image": maskedImage = try MaskedImage(image: try typed(Image<Pixel>.self), mask: mask, variance: variance)
        case "mask": maskedImage = try MaskedImage(image: image, mask: try typed(Mask.self), variance: variance)
        case "variance": maskedImage = try MaskedImage(image: image, mask: mask, variance: try typed(Image<Float>.self))
        default:
            throw StorageClassError.unknownComponent(
                name, storageClass: storageClass, known: ["image", "mask", "metadata", "photoCalib", "psf", "variance", "visitInfo", "wcs"])
        }
    }
}

/// The single-precision exposure (afw's `ExposureF`), the usual calexp.
public typealias ExposureF = Exposure<Float>

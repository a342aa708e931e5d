/// The assembler of `Exposure` storage classes: components as afw names them.
public struct ExposureAssembler<Pixel: PixelValue>: CompositeAssembler {
    /// The storage class name, for messages.
    public let storageClass: String

    /// An assembler for exposures of `Pixel`, reported as `storageClass`.
    public init(storageClass: String) { self.storageClass = storageClass }

    private func exposure(_ value: any Sendable) throws -> Exposure<Pixel> {
        guard let exposure = value as? Exposure<Pixel> else {
            throw StorageClassError.wrongType(storageClass, expected: "\(Exposure<Pixel>.self)", got: "\(type(of: value))")
        }
        return exposure
    }

    public func component(_ name: String, of composite: any Sendable) throws -> any Sendable {
        try exposure(composite).component(name, storageClass: storageClass)
    }

    public func replacing(_ name: String, with value: any Sendable, in composite: any Sendable) throws -> any Sendable {
        var result = try exposure(composite)
        try result.setComponent(name, to: value, storageClass: storageClass)
        return result
    }

    public func disassemble(_ composite: any Sendable) throws -> [String: any Sendable] {
        let value = try exposure(composite)
        var parts: [String: any Sendable] = [
            "image": value.image, "mask": value.mask, "variance": value.variance, "metadata": value.metadata,
        ]
        if let wcs = value.wcs { parts["wcs"] = wcs }
        if let psf = value.psf { parts["psf"] = psf }
        if let photoCalib = value.photoCalib { parts["photoCalib"] = photoCalib }
        if let visitInfo = value.visitInfo { parts["visitInfo"] = visitInfo }
        return parts
    }

    public func assemble(_ components: [String: any Sendable]) throws -> any Sendable {
        guard let image = components["image"] as? Image<Pixel> else {
            throw StorageClassError.absentComponent("image", storageClass: storageClass)
        }
        var exposure = Exposure<Pixel>(maskedImage: MaskedImage<Pixel>(bbox: image.bbox))
        for (name, value) in components { try exposure.setComponent(name, to: value, storageClass: storageClass) }
        return exposure
    }

    public func sourceComponents(forDerived name: String) -> [String] {
        switch name {
        case "bbox", "dimensions", "xy0": return ["image"]
        case "maskedImage": return ["image", "mask", "variance"]
        default: return []
        }
    }
}

import CButlerABI
import Composites
import Formatters
import Foundation
import Synchronization

/// The C pixel type code of a pixel type the formatters know.
func pixelCode<P: ImagePixel>(_ type: P.Type) -> Int32 {
    switch P.kind {
    case .float32: Int32(BUTLER_PIXEL_FLOAT32.rawValue)
    case .float64: Int32(BUTLER_PIXEL_FLOAT64.rawValue)
    case .int32: Int32(BUTLER_PIXEL_INT32.rawValue)
    case .uint16: Int32(BUTLER_PIXEL_UINT16.rawValue)
    default: Int32(BUTLER_PIXEL_UINT8.rawValue)
    }
}

/// A ``MaskedImage`` of any supported pixel type, opened generically as the formatters'
/// `AnyExposure` and `AnyImage` are (a `calexp.maskedImage` get returns one).
protocol AnyMaskedImage: Sendable {
    associatedtype Pixel: ImagePixel
    var maskedImage: MaskedImage<Pixel> { get }
}

extension MaskedImage: AnyMaskedImage where Pixel: ImagePixel {
    var maskedImage: MaskedImage<Pixel> { self }
}

/// A pixel type's name for messages.
func pixelName(_ code: Int32) -> String {
    ["?", "FLOAT32", "FLOAT64", "INT32", "UINT16", "UINT8"][Int(code) >= 1 && Int(code) <= 5 ? Int(code) : 0]
}

/// Plane memory handed to C: packed rows, allocated once, freed with the handle. Immutable
/// after creation (C may write through the pointer; Swift never reads it again), hence
/// `@unchecked Sendable`.
final class PlaneBuffer: @unchecked Sendable {
    let data: UnsafeMutableRawPointer
    let pixelType: Int32
    let width: Int
    let height: Int
    let bytesPerPixel: Int

    init<P: ImagePixel>(_ image: Image<P>) {
        width = image.width
        height = image.height
        bytesPerPixel = MemoryLayout<P>.stride
        pixelType = pixelCode(P.self)
        data = UnsafeMutableRawPointer.allocate(byteCount: max(1, width * height * bytesPerPixel), alignment: 16)
        image.pixels.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { data.copyMemory(from: base, byteCount: bytes.count) }
        }
    }

    deinit { data.deallocate() }
}

/// An image, masked image or exposure given to C: its planes are copied into C memory on
/// first request, its components are JSON.
final class ExposureHandle: Sendable {
    let pixelType: Int32
    let bbox: Box2I
    /// Which planes this value has (an image has only "image").
    let planeNames: Set<String>
    private let makePlane: @Sendable (String) -> PlaneBuffer?
    private let planes = Mutex<[String: PlaneBuffer]>([:])
    /// The exposure's parts besides its planes (nil for an image or masked image).
    private let parts: (wcs: Wcs?, psf: Psf?, photoCalib: PhotoCalib?, visitInfo: VisitInfo?, metadata: Metadata)?

    convenience init(exposure: Exposure<some ImagePixel>) throws {
        try self.init(image: exposure.image, mask: exposure.mask, variance: exposure.variance, exposure: exposure)
    }

    init<P: ImagePixel>(image: Image<P>, mask: Mask?, variance: Image<Float>?, exposure: Exposure<P>? = nil) throws {
        pixelType = pixelCode(P.self)
        bbox = image.bbox
        planeNames = Set(["image"] + (mask == nil ? [] : ["mask"]) + (variance == nil ? [] : ["variance"]))
        makePlane = { name in
            switch name {
            case "image": PlaneBuffer(image)
            case "mask": mask.map { PlaneBuffer($0.image) }
            case "variance": variance.map(PlaneBuffer.init)
            default: nil
            }
        }
        parts = exposure.map { ($0.wcs, $0.psf, $0.photoCalib, $0.visitInfo, $0.metadata) }
    }

    /// A component as JSON text, nil when absent; computed when asked for (a cutout's caller
    /// often wants only its pixels).
    func component(_ name: String) throws -> String? {
        switch name {
        case "bbox": return try jsonText(bbox)
        case "wcs": return try parts?.wcs.map(jsonText)
        case "psf": return try parts?.psf.map(jsonText)
        case "photoCalib": return try parts?.photoCalib.map(jsonText)
        case "visitInfo": return try parts?.visitInfo.map(jsonText)
        case "metadata": return try parts.map { try jsonText($0.metadata) }
        default: return nil
        }
    }

    /// The WCS as FITS cards for this pixel grid (JSON), when there is a WCS.
    func wcsHeader() throws -> String? { try parts?.wcs.map { try Self.fitsHeader($0, xy0: bbox.min) } }

    /// The value read from the Butler, if it is one of the image types.
    static func make(_ value: any Sendable, context: String) throws -> ExposureHandle {
        func exposure(_ value: some AnyExposure) throws -> ExposureHandle { try ExposureHandle(exposure: value.exposure) }
        func masked(_ value: some AnyMaskedImage) throws -> ExposureHandle {
            let masked = value.maskedImage
            return try ExposureHandle(image: masked.image, mask: masked.mask, variance: masked.variance)
        }
        func image(_ value: some AnyImage) throws -> ExposureHandle { try ExposureHandle(image: value.image, mask: nil, variance: nil) }
        if let value = value as? any AnyExposure { return try exposure(value) }
        if let value = value as? any AnyMaskedImage { return try masked(value) }
        if let value = value as? any AnyImage { return try image(value) }
        if let mask = value as? Mask { return try ExposureHandle(image: mask.image, mask: nil, variance: nil) }
        throw BindingFailure(
            .typeMismatch, "\(context) is a \(type(of: value)), not an image or exposure (use butler_get_json or butler_get_bytes)")
    }

    /// A plane, copied into C memory the first time it is asked for.
    func plane(_ name: String) throws -> PlaneBuffer {
        guard planeNames.contains(name) else {
            let known = ["image", "mask", "variance"]
            throw BindingFailure(
                known.contains(name) ? .missingComponent : .invalidArgument,
                known.contains(name)
                    ? "this value has no \(name) plane (it has \(planeNames.sorted().joined(separator: ", ")))"
                    : "'\(name)' is not a plane (image, mask, variance)")
        }
        return planes.withLock { planes in
            if let existing = planes[name] { return existing }
            let made = makePlane(name)!
            planes[name] = made
            return made
        }
    }

    /// FITS WCS cards (name → value) for a pixel grid starting at parent `xy0`.
    static func fitsHeader(_ wcs: Wcs, xy0: Point2I) throws -> String {
        var cards: [String: JSONValue] = [:]
        // The primary WCS only: the alternate `A` (parent pixel) WCS and LTV are afw's.
        for (name, value, _) in FITSWcs.cards(for: wcs, xy0: xy0) where !name.hasSuffix("A") && !name.hasPrefix("LTV") {
            cards[name] = value
        }
        return try jsonText(cards)
    }
}

public import Composites

/// The pixel types an image file can store, named as `image-info` reports them. Format-neutral:
/// each file handle maps a kind to its own library's type codes (cfitsio's BITPIX and datatype,
/// HDF5's native types) in its own file.
public enum PixelKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Unsigned 8-bit integers.
    case uint8 = "UInt8"
    /// Signed 16-bit integers.
    case int16 = "Int16"
    /// Unsigned 16-bit integers (raws, through BZERO in FITS).
    case uint16 = "UInt16"
    /// Signed 32-bit integers (masks).
    case int32 = "Int32"
    /// Unsigned 32-bit integers.
    case uint32 = "UInt32"
    /// Signed 64-bit integers.
    case int64 = "Int64"
    /// IEEE single precision.
    case float32 = "Float32"
    /// IEEE double precision.
    case float64 = "Float64"

    /// The in-memory pixel type images of this kind are read as, when images of it exist.
    public var imagePixelType: (any ImagePixel.Type)? {
        switch self {
        case .uint8: return UInt8.self
        case .uint16: return UInt16.self
        case .int32: return Int32.self
        case .float32: return Float.self
        case .float64: return Double.self
        case .int16, .uint32, .int64: return nil
        }
    }

    /// Whether the kind is a floating-point type (never quantised by lossless compression).
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
}

/// A pixel type the image formatters read and write: the in-memory side of ``PixelKind``.
public protocol ImagePixel: PixelValue {
    /// How files store it.
    static var kind: PixelKind { get }
    /// The value as a double (for previews and statistics).
    var doubleValue: Double { get }
}

extension Float: ImagePixel {
    public static var kind: PixelKind { .float32 }
    public var doubleValue: Double { Double(self) }
}
extension Double: ImagePixel {
    public static var kind: PixelKind { .float64 }
    public var doubleValue: Double { self }
}
extension Int32: ImagePixel {
    public static var kind: PixelKind { .int32 }
    public var doubleValue: Double { Double(self) }
}
extension UInt16: ImagePixel {
    public static var kind: PixelKind { .uint16 }
    public var doubleValue: Double { Double(self) }
}
extension UInt8: ImagePixel {
    public static var kind: PixelKind { .uint8 }
    public var doubleValue: Double { Double(self) }
}

/// An ``Exposure`` of any supported pixel type, seen generically: `value as? any AnyExposure`
/// opens a type-erased value into a call generic over its pixel type, the one pixel dispatch
/// every reader, writer and command uses.
public protocol AnyExposure: Sendable {
    /// The pixel type of the image plane.
    associatedtype Pixel: ImagePixel
    /// The exposure itself, typed.
    var exposure: Exposure<Pixel> { get }
}

extension Exposure: AnyExposure where Pixel: ImagePixel {
    public var exposure: Exposure<Pixel> { self }
}

/// An ``Image`` of any supported pixel type, seen generically (as ``AnyExposure``).
public protocol AnyImage: Sendable {
    /// The pixel type.
    associatedtype Pixel: ImagePixel
    /// The image itself, typed.
    var image: Image<Pixel> { get }
}

extension Image: AnyImage where Pixel: ImagePixel {
    public var image: Image<Pixel> { self }
}

/// An array of `count` pixels that `fill` writes completely (a cfitsio or HDF5 read into the
/// base address), never zeroed first.
///
/// Why not `[P](repeating: .zero, count:)`: zeroing is a second pass over every plane (192 MiB
/// for a 4096² exposure) and its page faults, and in the unspecialised generic code that
/// callers in other modules reach it copies element by element through value witnesses —
/// measured at a fifth of a full read.
func pixelsFilled<P: ImagePixel>(_ type: P.Type, count: Int, by fill: (UnsafeMutableRawPointer) throws -> Void) rethrows -> [P] {
    try [P](unsafeUninitializedCapacity: count) { buffer, initialized in
        if let base = buffer.baseAddress { try fill(UnsafeMutableRawPointer(base)) }
        // Reached only when the read succeeded and so wrote every element; pixels are trivial.
        initialized = count
    }
}

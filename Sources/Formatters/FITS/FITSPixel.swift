public import Composites
import CFitsShim

/// How a pixel type is stored in FITS: the BITPIX of new images and the cfitsio datatype
/// used to read and write it.
public protocol FITSPixel: PixelValue {
    /// BITPIX for new images.
    static var bitpix: Int32 { get }
    /// cfitsio datatype code (TFLOAT, TINT…).
    static var fitsDatatype: Int32 { get }
}

extension Float: FITSPixel {
    public static var bitpix: Int32 { FLOAT_IMG }
    public static var fitsDatatype: Int32 { TFLOAT }
}

extension Double: FITSPixel {
    public static var bitpix: Int32 { DOUBLE_IMG }
    public static var fitsDatatype: Int32 { TDOUBLE }
}

extension Int32: FITSPixel {
    public static var bitpix: Int32 { LONG_IMG }
    public static var fitsDatatype: Int32 { TINT }
}

extension UInt16: FITSPixel {
    public static var bitpix: Int32 { USHORT_IMG }
    public static var fitsDatatype: Int32 { TUSHORT }
}

extension UInt8: FITSPixel {
    public static var bitpix: Int32 { BYTE_IMG }
    public static var fitsDatatype: Int32 { TBYTE }
}

/// The pixel type name for a BITPIX (after BZERO scaling: cfitsio's "equivalent" type).
func pixelTypeName(bitpix: Int32) -> String {
    switch bitpix {
    case FLOAT_IMG: return "Float32"
    case DOUBLE_IMG: return "Float64"
    case LONG_IMG: return "Int32"
    case USHORT_IMG: return "UInt16"
    case SHORT_IMG: return "Int16"
    case BYTE_IMG: return "UInt8"
    case LONGLONG_IMG: return "Int64"
    case ULONG_IMG: return "UInt32"
    default: return "BITPIX \(bitpix)"
    }
}

/// An array of `count` pixels that `fill` writes completely (a cfitsio or HDF5 read into the
/// base address), never zeroed first.
///
/// Why not `[P](repeating: .zero, count:)`: zeroing is a second pass over every plane (192 MiB
/// for a 4096² exposure) and its page faults, and in the unspecialised generic code that
/// callers in other modules reach it copies element by element through value witnesses —
/// measured at a fifth of a full read.
func pixelsFilled<P: FITSPixel>(_ type: P.Type, count: Int, by fill: (UnsafeMutableRawPointer) throws -> Void) rethrows -> [P] {
    try [P](unsafeUninitializedCapacity: count) { buffer, initialized in
        if let base = buffer.baseAddress { try fill(UnsafeMutableRawPointer(base)) }
        // Reached only when the read succeeded and so wrote every element; pixels are trivial.
        initialized = count
    }
}

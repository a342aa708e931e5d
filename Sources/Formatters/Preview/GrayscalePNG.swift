import CFitsShim
public import Foundation

/// An 8-bit grayscale PNG: pixels, top row first, deflated by zlib (the library cfitsio
/// already links) into one IDAT chunk, each row with PNG's `Sub` filter (smooth sky images
/// deflate better as differences; one subtraction a byte).
public struct GrayscalePNG: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Gray levels, row by row from the top.
    public var pixels: [UInt8]

    /// An image of one gray level.
    public init(width: Int, height: Int, background: UInt8 = 255) {
        self.width = width
        self.height = height
        pixels = Array(repeating: background, count: width * height)
    }

    /// An image of these gray levels (`width × height`, top row first).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "\(pixels.count) gray levels for \(width) × \(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Sets the pixel at column `x`, row `y` from the top (outside the image: nothing).
    public mutating func set(_ x: Int, _ y: Int, _ value: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        pixels[y * width + x] = value
    }

    /// The PNG file's bytes.
    /// - Throws: when zlib fails (it does not for memory it was given room in).
    public func encoded() throws -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(1)  // filter: Sub (each byte less the one to its left)
            let start = row * width
            for column in 0..<width {
                raw.append(pixels[start + column] &- (column == 0 ? 0 : pixels[start + column - 1]))
            }
        }
        var capacity = butler_zlib_bound(UInt(raw.count))
        var deflated = [UInt8](repeating: 0, count: Int(capacity))
        let status = butler_zlib_compress(&deflated, &capacity, raw, UInt(raw.count), 6)
        guard status == 0 else { throw PreviewError("zlib could not deflate a \(width) × \(height) preview (status \(status))") }
        deflated.removeSubrange(Int(capacity)...)
        var header = Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0]  // 8-bit grayscale, deflate, adaptive filtering, no interlace
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        png.append(Self.chunk("IHDR", header))
        png.append(Self.chunk("IDAT", deflated))
        png.append(Self.chunk("IEND", []))
        return png
    }

    private static func chunk(_ type: String, _ body: [UInt8]) -> Data {
        let typed = Array(type.utf8) + body
        let crc = typed.withUnsafeBufferPointer { butler_crc32(0, $0.baseAddress, UInt32($0.count)) }
        return Data(bigEndian(UInt32(body.count)) + typed + bigEndian(UInt32(truncatingIfNeeded: crc)))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// Why a preview could not be made.
public struct PreviewError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

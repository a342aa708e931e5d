public import Composites

/// One image HDU of any FITS file (not only afw's layout): pixels with their header's WCS and
/// cards. Primary or extension HDUs, tile-compressed or not.
public struct FITSImage<Pixel: ImagePixel>: Sendable, Equatable {
    /// The pixels; `xy0` comes from `LTV1/2` when present.
    public var image: Image<Pixel>
    /// The header's celestial WCS (parent coordinates), if any.
    public var wcs: Wcs?
    /// The header cards (structural and WCS keywords removed).
    public var metadata: Metadata
    /// The 0-based HDU the image came from.
    public var hdu: Int

    /// Reads image HDU `hdu` (0-based), or the first HDU holding a 2-d image. Pixels are
    /// converted to `Pixel` by cfitsio (BSCALE/BZERO applied), whatever the stored type.
    public static func read(from path: String, hdu: Int? = nil) throws -> FITSImage {
        let file = try FITSFile.open(path)
        let count = try file.hduCount()
        var chosen: Int?
        if let hdu {
            guard hdu >= 0, hdu < count else {
                throw FITSError(
                    path: path, kind: .invalidRequest, message: "the file has \(count) HDUs (0…\(count - 1))", context: "reading HDU \(hdu)"
                )
            }
            guard try file.move(to: hdu), try file.imageShape().axes.count == 2 else {
                throw FITSError(path: path, kind: .invalidRequest, message: "HDU \(hdu) is not a 2-d image", context: "reading HDU \(hdu)")
            }
            chosen = hdu
        } else {
            for index in 0..<count where try file.move(to: index) && (try file.imageShape().axes.count == 2) {
                chosen = index
                break
            }
        }
        guard let chosen else {
            throw FITSError(path: path, kind: .corruptFile, message: "no 2-d image HDU in \(count) HDUs", context: "finding an image")
        }
        try file.move(to: chosen)
        let header = try file.readHeader()
        let naxes = try file.imageShape().axes
        let xy0 = FITSWcs.xy0(from: header)
        let pixels = try file.readPixels(Pixel.self, width: naxes[0], height: naxes[1])
        var metadata = Metadata()
        for card in header.cards where !FITSWcs.isStructural(card.key) { metadata.set(card.key, card.value, comment: card.comment) }
        return FITSImage(
            image: try Image(bbox: Box2I(min: xy0, extent: Extent2I(naxes[0], naxes[1])), pixels: pixels),
            wcs: FITSWcs.wcs(from: header, xy0: xy0), metadata: metadata, hdu: chosen)
    }
}

/// Header-only reads of any FITS file.
public enum FITSHeaders {
    /// The primary header's cards followed by those of the first 2-d image HDU (if it is an
    /// extension), without reading pixels: what raw ingest maps to dimension records.
    public static func read(from path: String) throws -> Metadata {
        let file = try FITSFile.open(path)
        var merged = try file.readHeader()
        if try !file.move(to: 0) || (try file.imageShape().axes.count != 2) {
            // A header-only file has no HDU 1. (Counting HDUs instead would make cfitsio
            // parse every header of a many-extension raw.)
            if try file.moveIfPresent(to: 1) == true {
                for card in try file.readHeader().cards where merged[card.key] == nil {
                    merged.set(card.key, card.value, comment: card.comment)
                }
            }
        }
        return merged
    }

    /// Checks that every HDU's data is in the file (a raw cut short in transfer is refused at
    /// ingest, not found out at the first read), without reading pixels.
    /// - Throws: ``FITSError`` (``FileErrorKind/corruptFile``) naming the HDU and the sizes.
    public static func verifyComplete(_ path: String) throws {
        try FITSFile.open(path).verifyDataInFile()
    }
}

import CFitsShim
public import Composites
import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How image planes are written: uncompressed, or tile-compressed so that a cutout
/// decompresses only the tiles it touches.
public struct FITSCompression: Sendable, Hashable, Codable {
    /// The tile-compression algorithm.
    public enum Algorithm: String, Sendable, Hashable, Codable, CaseIterable {
        /// Plain images.
        case none
        /// GZIP_2 (byte-shuffled gzip): lossless for every pixel type when floats are not
        /// quantised.
        case gzip
        /// RICE_1: lossless for integer planes; floating-point planes are written with GZIP
        /// instead, since RICE would quantise them.
        case rice
    }

    /// The algorithm.
    public var algorithm: Algorithm
    /// Tile width and height in pixels.
    public var tile: Extent2I

    /// A compression setting (default tile 256 × 256).
    public init(_ algorithm: Algorithm, tile: Extent2I = Extent2I(256, 256)) {
        self.algorithm = algorithm
        self.tile = tile
    }

    /// No compression.
    public static let none = FITSCompression(.none)
}

/// One open FITS file: the only owner of a cfitsio `fitsfile*`.
///
/// Not `Sendable`: cfitsio is reentrant with one handle per thread, so a handle stays with the
/// task that opened it. Read handles close in `deinit`; writers call ``close()`` to learn
/// whether the final flush succeeded.
final class FITSFile {
    private var handle: UnsafeMutablePointer<fitsfile>?
    let path: String
    /// The same file opened for raw reads (readers only): header bytes are checked before
    /// cfitsio parses them, and data sizes against the file's length.
    private let raw: RawFITSFile?
    /// HDUs `0..<checkedHDUs` have had their header bytes checked (see ``RawFITSFile``).
    private var checkedHDUs = 1

    /// The C handle, for extensions in this file only.
    fileprivate var handlePointer: UnsafeMutablePointer<fitsfile>? { handle }

    private init(handle: UnsafeMutablePointer<fitsfile>?, path: String, raw: RawFITSFile?) {
        self.handle = handle
        self.path = path
        self.raw = raw
    }

    deinit {
        if handle != nil {
            var status: Int32 = 0
            ffclos(handle, &status)
        }
    }

    /// Opens an existing file read-only, positioned at the primary HDU.
    static func open(_ path: String) throws -> FITSFile {
        let raw = try RawFITSFile(path)
        var handle: UnsafeMutablePointer<fitsfile>?
        var status: Int32 = 0
        CFitsio.clearMessages()
        // A path with brackets or a leading '!' would be read as cfitsio's extended syntax.
        butler_fits_open_file(&handle, "file://" + path, READONLY, &status)
        try CFitsio.check(status, "ffopen", path: path, context: "opening")
        return FITSFile(handle: handle, path: path, raw: raw)
    }

    /// Creates a new file (which must not exist).
    static func create(_ path: String) throws -> FITSFile {
        var handle: UnsafeMutablePointer<fitsfile>?
        var status: Int32 = 0
        CFitsio.clearMessages()
        ffinit(&handle, "file://" + path, &status)
        try CFitsio.check(status, "ffinit", path: path, context: "creating")
        return FITSFile(handle: handle, path: path, raw: nil)
    }

    /// Closes the file, flushing what was written.
    func close() throws {
        guard handle != nil else { return }
        var status: Int32 = 0
        ffclos(handle, &status)
        handle = nil
        try CFitsio.check(status, "ffclos", path: path, context: "closing")
    }

    private func check(_ status: Int32, _ function: String, _ context: @autoclosure () -> String) throws {
        try CFitsio.check(status, function, path: path, context: context())
    }

    // MARK: HDUs

    /// The number of HDUs; the current HDU stays current. Counted by stepping through them
    /// with each header checked first (``moveIfPresent(to:)``), not with cfitsio's `ffthdu`,
    /// which parses every header unchecked and aborts on the keyword values it cannot hold
    /// (FuzzFITS).
    func hduCount() throws -> Int {
        var current: Int32 = 0
        ffghdn(handle, &current)
        var count = max(Int(current), 1)
        while try moveIfPresent(to: count) != nil { count += 1 }
        try move(to: max(Int(current), 1) - 1)
        return count
    }

    /// Moves to HDU `index` (0-based: 0 is the primary). Returns whether it is an image.
    @discardableResult
    func move(to index: Int) throws -> Bool {
        guard let isImage = try moveIfPresent(to: index) else {
            throw CFitsio.error(END_OF_FILE, "ffmahd", path: path, context: "moving to HDU \(index)")
        }
        return isImage
    }

    /// Moves to HDU `index` (0-based) if the file has it: whether it is an image, or nil when
    /// the file ends before it.
    func moveIfPresent(to index: Int) throws -> Bool? {
        if try !checkHeaders(through: index) { return nil }
        var type: Int32 = 0, status: Int32 = 0
        ffmahd(handle, Int32(index + 1), &type, &status)
        if status == END_OF_FILE {
            CFitsio.clearMessages()
            return nil
        }
        try check(status, "ffmahd", "moving to HDU \(index)")
        return type == IMAGE_HDU
    }

    /// Checks the header bytes of every HDU up to `index` before cfitsio parses them (once per
    /// HDU): cfitsio 4.2 aborts the process on a long non-numeric value of a tile-compression
    /// keyword (`ZNAXIS1 = 'AAAA…'` overflows a message buffer). Each header starts where the
    /// previous HDU's data ends, so the HDUs are stepped through in order. Returns false when
    /// the file ends before `index`.
    private func checkHeaders(through index: Int) throws -> Bool {
        guard let raw else { return true }
        while checkedHDUs <= index {
            let previous = checkedHDUs - 1
            var current: Int32 = 0, type: Int32 = 0, status: Int32 = 0
            ffghdn(handle, &current)
            if Int(current) - 1 != previous {
                ffmahd(handle, Int32(previous + 1), &type, &status)
                try check(status, "ffmahd", "moving to HDU \(previous)")
            }
            var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
            ffghadll(handle, &headStart, &dataStart, &dataEnd, &status)
            try check(status, "ffghadll", "locating HDU \(previous)")
            guard dataEnd < raw.size else { return false }
            if let problem = try raw.headerProblem(at: dataEnd) {
                throw FITSError(path: path, kind: .corruptFile, message: problem, context: "reading the header of HDU \(checkedHDUs)")
            }
            checkedHDUs += 1
        }
        return true
    }

    /// Refuses to read the pixels of an uncompressed image whose data is not in the file,
    /// before a plane is allocated for them: a few kilobytes declaring a billion pixels are a
    /// truncated or hostile file. (A compressed image's tiles are checked by cfitsio.)
    ///
    /// `region` (0-based pixels) limits the tiles of a compressed image that are inflated to
    /// those a read of it touches: a cutout must not decode the whole image to check it.
    private func requireDataInFile(region: Box2I? = nil) throws {
        var status: Int32 = 0
        guard let raw else { return }
        let compressed = fits_is_compressed_image(handle, &status) != 0
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0, bitpix: Int32 = 0, naxis: Int32 = 0
        var naxes = [Int](repeating: 0, count: 9)
        ffgipr(handle, 9, &bitpix, &naxis, &naxes, &status)
        ffghadll(handle, &headStart, &dataStart, &dataEnd, &status)
        try check(status, "ffghadll", "locating the image data")
        var needed = Int64(abs(bitpix) / 8)
        for axis in naxes.prefix(Int(max(0, min(naxis, 9)))) {
            let (product, overflow) = needed.multipliedReportingOverflow(by: Int64(axis))
            needed = overflow ? .max / 2 : product
        }
        if compressed {
            try requireTilesInHeap(raw, dataStart: dataStart, region: region)
            // No compression cfitsio reads gets near this ratio on real images; a few kilobytes
            // declaring gigabytes of pixels made cfitsio decode for minutes (FuzzFITS).
            if needed / Self.maxCompressionRatio > raw.size + Self.compressionSlack / Self.maxCompressionRatio {
                throw FITSError(
                    path: path, kind: .corruptFile,
                    message:
                        "the compressed image declares \(needed) bytes of pixels, more than \(Self.maxCompressionRatio) times the file's \(raw.size) bytes",
                    context: "reading pixels")
            }
            return
        }
        if dataStart > raw.size - needed {
            throw FITSError(
                path: path, kind: .corruptFile,
                message:
                    "the header declares \(needed) bytes of pixels from byte \(dataStart), but the file has \(raw.size) bytes (truncated?)",
                context: "reading pixels")
        }
    }

    /// The most pixel bytes a tile-compressed image may declare per byte of its file (beyond
    /// ``compressionSlack``): above deflate's bound (1032:1) and what RICE or PLIO reach on
    /// constant images.
    static let maxCompressionRatio: Int64 = 1100
    /// Pixel bytes any compressed image may declare whatever its file size (a 2048² float plane).
    static let compressionSlack: Int64 = 16 << 20

    /// Refuses a tile-compressed image whose tile descriptors point past its heap, or whose
    /// GZIP tiles are not complete streams of at most a tile's bytes, before cfitsio reads them:
    /// FuzzFITS found a 14 KB file making cfitsio allocate 3 GB for one tile, and a corrupt GZIP
    /// tile on which cfitsio 4.2 grows its buffer without end (41 GB and counting).
    /// Only the GZIP tiles overlapping `region` (when given) are inflated; every descriptor is
    /// checked.
    private func requireTilesInHeap(_ raw: RawFITSFile, dataStart: Int64, region: Box2I?) throws {
        let table = try tileTable(raw)
        let (rows, heap, heapStart) = (table.rows, table.heap, table.heapStart)
        let optional = table.value
        let gzip = table.cards["ZCMPTYPE"]?.hasPrefix("'GZIP") ?? false
        // The most bytes one tile inflates to: its pixels at 8 bytes each. Tiles run along
        // the first axis, ZTILE1 × ZTILE2 pixels each (by default whole rows).
        // Bounded as image axes are, so that tile arithmetic cannot overflow on a hostile card.
        let maxAxis = Int64(FileLimits.maxAxis)
        let width = min(max(optional("ZNAXIS1", 1), 1), maxAxis)
        let tileWidth = max(min(optional("ZTILE1", width), width), 1)
        let tileHeight = min(max(optional("ZTILE2", 1), 1), maxAxis)
        let tileBytes = min(tileWidth * min(tileHeight, 1 << 20) * 8, 1 << 31)
        let tilesPerRow = (width + tileWidth - 1) / tileWidth
        /// Whether the read touches tile `row` (0-based).
        func touched(_ row: Int64) -> Bool {
            guard let region else { return true }
            let (x, y) = (row % tilesPerRow * tileWidth, row / tilesPerRow * tileHeight)
            return Int64(region.min.x) < x + tileWidth && x <= Int64(region.max.x) && Int64(region.min.y) < y + tileHeight
                && y <= Int64(region.max.y)
        }
        var inflated = [UInt8](repeating: 0, count: 0)
        // Tiles found sound stay sound while the file is unchanged: a second cutout of the
        // same image inflates nothing here (each check costs a decode of the tile). So do the
        // same compressed bytes in another file, known by their SHA-256 (a ranged read of a
        // remote artifact is a new file each time; hashing a tile costs a fortieth of its decode).
        var info = stat()
        let file = stat(path, &info) == 0 ? VerifiedTiles.File(info, dataStart: dataStart) : nil
        try forEachTile(rows: rows, heap: heap) { name, row, offset, bytes in
            let inflates = name == "GZIP_COMPRESSED_DATA" || (name == "COMPRESSED_DATA" && gzip)
            guard inflates, bytes > 0, touched(row) else { return }
            if let file, VerifiedTiles.shared.contains(file, tile: row) { return }
            let compressed = try raw.bytes(at: heapStart + offset, count: Int(bytes))
            let content = VerifiedTiles.Content(compressed, bound: tileBytes)
            if VerifiedTiles.shared.contains(content) {
                if let file { VerifiedTiles.shared.insert(file, tile: row) }
                return
            }
            if inflated.isEmpty { inflated = [UInt8](repeating: 0, count: Int(tileBytes)) }
            let sound = compressed.withUnsafeBufferPointer { input in
                inflated.withUnsafeMutableBufferPointer { output in
                    butler_gzip_tile_is_sound(input.baseAddress, input.count, output.baseAddress, output.count) == 0
                }
            }
            if !sound {
                throw FITSError(
                    path: path, kind: .corruptFile,
                    message: "tile \(row + 1) is not a complete gzip stream of at most \(tileBytes) bytes",
                    context: "checking the compressed image's tiles")
            }
            if let file { VerifiedTiles.shared.insert(file, tile: row) }
            VerifiedTiles.shared.insert(content)
        }
    }

    /// The tile table of the current tile-compressed HDU: its rows (one per tile), its heap's
    /// size and first byte, and its header's cards as written (values cfitsio does not expose).
    private struct TileTable {
        let rows: Int64
        let heap: Int64
        let heapStart: Int64
        let cards: [String: String]

        /// An integer card's value, or `fallback`.
        func value(_ key: String, _ fallback: Int64) -> Int64 { cards[key].flatMap { Int64($0) } ?? fallback }
    }

    private func tileTable(_ raw: RawFITSFile) throws -> TileTable {
        var status: Int32 = 0
        var heap: Int64 = 0, rows: Int64 = 0, rowBytes: Int64 = 0
        ffgkyjj(handle, "PCOUNT", &heap, nil, &status)
        ffgkyjj(handle, "NAXIS2", &rows, nil, &status)
        ffgkyjj(handle, "NAXIS1", &rowBytes, nil, &status)
        try check(status, "ffgkyjj", "reading the tile table's size")
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        ffghadll(handle, &headStart, &dataStart, &dataEnd, &status)
        try check(status, "ffghadll", "locating the tile table")
        let cards = try raw.cardValues(from: headStart, to: dataStart)
        let heapStart = dataStart + (cards["THEAP"].flatMap { Int64($0) } ?? rowBytes * rows)
        return TileTable(rows: rows, heap: heap, heapStart: heapStart, cards: cards)
    }

    /// Calls `body` with each tile's piece in every data column of the current tile-compressed
    /// HDU — the column, the 0-based tile, the heap offset and the byte count — after checking
    /// that the piece lies inside the heap of `heap` bytes.
    private func forEachTile(rows: Int64, heap: Int64, _ body: (String, Int64, Int64, Int64) throws -> Void) throws {
        var status: Int32 = 0
        for name in ["COMPRESSED_DATA", "GZIP_COMPRESSED_DATA", "UNCOMPRESSED_DATA"] {
            var column: Int32 = 0
            var template = Array(name.utf8CString)
            guard ffgcno(handle, CASEINSEN, &template, &column, &status) == 0 else {
                status = 0
                continue
            }
            var typecode: Int32 = 0, repeatCount: Int64 = 0, width: Int64 = 0
            ffgtclll(handle, column, &typecode, &repeatCount, &width, &status)
            try check(status, "ffgtclll", "reading the \(name) column")
            for row in 0..<rows {
                var length: Int64 = 0, offset: Int64 = 0
                ffgdesll(handle, column, row + 1, &length, &offset, &status)
                try check(status, "ffgdesll", "reading the \(name) descriptor of tile \(row + 1)")
                let (bytes, overflow) = length.multipliedReportingOverflow(by: max(width, 1))
                if length < 0 || offset < 0 || overflow || offset > heap || bytes > heap - offset {
                    throw FITSError(
                        path: path, kind: .corruptFile,
                        message: "tile \(row + 1) claims \(length) elements at heap byte \(offset); the heap has \(heap) bytes",
                        context: "checking the compressed image's tiles")
                }
                try body(name, row, offset, bytes)
            }
        }
    }

    /// Walks every HDU and checks that its data ends inside the file.
    func verifyDataInFile() throws {
        guard let raw else { return }
        var index = 0
        while try moveIfPresent(to: index) != nil {
            var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0, status: Int32 = 0
            ffghadll(handle, &headStart, &dataStart, &dataEnd, &status)
            try check(status, "ffghadll", "locating HDU \(index)")
            // The last data block may lack its padding to 2880 bytes; its bytes must be there.
            if dataStart > raw.size || dataEnd - 2879 > raw.size {
                throw FITSError(
                    path: path, kind: .corruptFile,
                    message: "HDU \(index) declares data up to byte \(dataEnd), but the file has \(raw.size) bytes (truncated?)",
                    context: "checking the file is complete")
            }
            index += 1
        }
    }

    /// The shape of the current image HDU: its axes and the pixel type after scaling.
    struct ImageShape {
        /// The pixel kind cfitsio reads it as (its "equivalent" type), nil for one we do not know.
        let kind: PixelKind?
        /// The kind's name, or `BITPIX n` for an unknown one.
        let typeName: String
        /// NAXISn, first axis first.
        let axes: [Int]
    }

    /// Image dimensions and the pixel type after scaling, of the current HDU; refuses axes and
    /// pixel counts beyond ``FileLimits`` before anything is allocated for them.
    func imageShape() throws -> ImageShape {
        var bitpix: Int32 = 0, naxis: Int32 = 0, status: Int32 = 0
        var naxes = [Int](repeating: 0, count: 9)
        ffgipr(handle, 9, &bitpix, &naxis, &naxes, &status)
        try check(status, "ffgipr", "reading image dimensions")
        var equivalent: Int32 = 0
        ffgiet(handle, &equivalent, &status)
        try check(status, "ffgiet", "reading the image type")
        let axes = Array(naxes.prefix(Int(max(0, min(naxis, 9)))))
        if let refusal = FileLimits.refusal(axes: axes) {
            throw FITSError(path: path, kind: .corruptFile, message: refusal, context: "reading image dimensions")
        }
        let kind = PixelKind(fitsBitpix: equivalent)
        return ImageShape(kind: kind, typeName: kind?.rawValue ?? "BITPIX \(equivalent)", axes: axes)
    }

    // MARK: Pixels

    /// Reads the pixels of the current image HDU inside `box` (local, 0-based, inclusive), or
    /// all of them. Only the tiles a box touches are decompressed.
    func readPixels<P: ImagePixel>(_ type: P.Type, width: Int, height: Int, box: Box2I? = nil) throws -> [P] {
        let region = box ?? Box2I(min: Point2I(0, 0), extent: Extent2I(width, height))
        try requireDataInFile(region: region)
        var lower = [region.min.x + 1, region.min.y + 1]
        var upper = [region.max.x + 1, region.max.y + 1]
        var step = [1, 1]
        // Blank pixels (BLANK, or a compressed image's ZBLANK) read as NaN into floating-point
        // pixels, as astropy reads them; integer pixels keep the stored value, as astropy does.
        var nan =
            P.kind == .float32 ? [UInt8](withUnsafeBytes(of: Float.nan, Array.init)) : [UInt8](withUnsafeBytes(of: Double.nan, Array.init))
        let blankValue = P.kind.isFloatingPoint
        return try pixelsFilled(P.self, count: region.area) { base in
            var status: Int32 = 0, anyNull: Int32 = 0
            nan.withUnsafeMutableBytes { null in
                _ = ffgsv(handle, P.kind.fitsDatatype, &lower, &upper, &step, blankValue ? null.baseAddress : nil, base, &anyNull, &status)
            }
            try check(status, "ffgsv", "reading \(region.extent) \(P.pixelTypeName) pixels at \(region)")
        }
    }

    /// Appends an image HDU of `P` pixels, compressed as asked (floats are never quantised).
    func writeImage<P: ImagePixel>(_ pixels: [P], width: Int, height: Int, compression: FITSCompression) throws {
        var status: Int32 = 0
        if compression.algorithm != .none {
            let isFloat = P.kind.isFloatingPoint
            let algorithm = compression.algorithm == .rice && !isFloat ? RICE_1 : GZIP_2
            fits_set_compression_type(handle, algorithm, &status)
            var tile = [min(compression.tile.width, width), min(compression.tile.height, height)]
            fits_set_tile_dim(handle, 2, &tile, &status)
            if isFloat {
                // Quantize level 0 with no dither keeps floating-point pixels exact.
                fits_set_quantize_level(handle, 0, &status)
                fits_set_quantize_method(handle, NO_DITHER, &status)
            }
            try check(status, "fits_set_compression_type", "configuring \(compression.algorithm.rawValue) compression")
        } else {
            fits_set_compression_type(handle, 0, &status)
        }
        var naxes = [width, height]
        ffcrim(handle, P.kind.fitsBitpix, 2, &naxes, &status)
        try check(status, "ffcrim", "creating a \(width)×\(height) \(P.pixelTypeName) image")
        var copy = pixels
        copy.withUnsafeMutableBytes { buffer in
            _ = ffppr(handle, P.kind.fitsDatatype, 1, Int64(pixels.count), buffer.baseAddress, &status)
        }
        try check(status, "ffppr", "writing \(pixels.count) pixels")
        if compression.algorithm != .none {
            fits_set_compression_type(handle, 0, &status)
        }
    }

    /// Appends an empty primary HDU (NAXIS = 0).
    func writeEmptyPrimary() throws {
        var status: Int32 = 0
        var naxes: [Int] = []
        ffcrim(handle, BYTE_IMG, 0, &naxes, &status)
        try check(status, "ffcrim", "creating the primary HDU")
    }

    // MARK: Header

    /// Every card of the current HDU, in order, with values typed.
    func readHeader() throws -> Metadata {
        try readHeader(keeping: nil)
    }

    /// The cards of the current HDU whose keyword `keep` accepts (all when nil). The others
    /// are skipped on their keyword alone: parsing each card's value and comment is most of
    /// the cost of a header read, and a component get needs a handful of an image's cards.
    func readHeader(keeping keep: ((String) -> Bool)?) throws -> Metadata {
        var count: Int32 = 0, more: Int32 = 0, status: Int32 = 0
        ffghsp(handle, &count, &more, &status)
        try check(status, "ffghsp", "reading the header size")
        var metadata = Metadata()
        var name = [CChar](repeating: 0, count: 81)
        var value = [CChar](repeating: 0, count: 81)
        var comment = [CChar](repeating: 0, count: 81)
        var card = [CChar](repeating: 0, count: 81)
        for index in 1...max(1, Int(count)) where count > 0 {
            if let keep {
                ffgrec(handle, Int32(index), &card, &status)
                try check(status, "ffgrec", "reading header card \(index)")
                // The keyword is the card's first 8 columns (HIERARCH keywords are longer and
                // never wanted here).
                let keyword = card.withUnsafeBufferPointer { buffer in
                    String(decoding: buffer.prefix(8).prefix { $0 != 0 && $0 != 32 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
                if !keep(keyword) { continue }
            }
            ffgkyn(handle, Int32(index), &name, &value, &comment, &status)
            try check(status, "ffgkyn", "reading header card \(index)")
            let key = cString(name)
            if key.isEmpty || key == "COMMENT" || key == "HISTORY" || key == "END" { continue }
            metadata.append(key, Self.parseValue(cString(value)), comment: cString(comment))
        }
        return metadata
    }

    /// A FITS value string as JSON: quoted strings, T/F, integers, reals (D exponents too).
    ///
    /// Pure standard library on purpose: Foundation's `trimmingCharacters` and
    /// `replacingOccurrences` bridge through NSString and were a quarter of a component get.
    static func parseValue(_ raw: String) -> JSONValue {
        func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
        var text = Substring(raw)
        while let first = text.first, isBlank(first) { text.removeFirst() }
        while let last = text.last, isBlank(last) { text.removeLast() }
        if text.isEmpty { return .null }
        if text.first == "'" {
            var inner = text.dropFirst()
            if inner.last == "'" { inner.removeLast() }
            var string = String(inner.contains(Character("'")) ? inner.replacing("''", with: "'") : inner)
            while string.last == " " { string.removeLast() }
            return .string(string)
        }
        if text == "T" { return .bool(true) }
        if text == "F" { return .bool(false) }
        if let int = Int64(text) { return .int(int) }
        if let double = Double(text) { return .double(double) }
        if text.contains(Character("D")), let double = Double(String(text.map { $0 == "D" ? "E" : $0 })) { return .double(double) }
        return .string(String(text))
    }

    /// Writes or updates a card of the current HDU (long strings use the CONTINUE convention).
    func writeKey(_ key: String, _ value: JSONValue, comment: String = "") throws {
        var status: Int32 = 0
        switch value {
        case .null: return
        case .bool(let bool): ffukyl(handle, key, bool ? 1 : 0, comment, &status)
        case .int(let int): ffukyj(handle, key, int, comment, &status)
        case .double(let double):
            // 17 significant digits: every double reads back exactly.
            ffukyd(handle, key, double, -17, comment, &status)
        case .string(let text): ffukls(handle, key, text, comment, &status)
        case .array, .object:
            ffukls(handle, key, value.description, comment, &status)
        }
        try check(status, "ffpky", "writing header keyword \(key)")
    }

    // MARK: Binary tables

    /// Appends a one-row binary table of double and integer columns.
    func writeTable(name: String, doubles: [(String, Double)], ints: [(String, Int32)]) throws {
        let names = doubles.map(\.0) + ints.map(\.0)
        let forms = Array(repeating: "1D", count: doubles.count) + Array(repeating: "1J", count: ints.count)
        var status: Int32 = 0
        var namePointers = names.map { strdup($0) }
        var formPointers = forms.map { strdup($0) }
        defer {
            namePointers.forEach { free($0) }
            formPointers.forEach { free($0) }
        }
        ffcrtb(handle, BINARY_TBL, 1, Int32(names.count), &namePointers, &formPointers, nil, name, &status)
        try check(status, "ffcrtb", "creating table \(name)")
        for (index, (_, value)) in doubles.enumerated() {
            var cell = value
            ffpcl(handle, TDOUBLE, Int32(index + 1), 1, 1, 1, &cell, &status)
        }
        for (index, (_, value)) in ints.enumerated() {
            var cell = value
            ffpcl(handle, TINT, Int32(doubles.count + index + 1), 1, 1, 1, &cell, &status)
        }
        try check(status, "ffpcl", "writing table \(name)")
    }

    /// Appends a binary table of double columns, a row per element (cfitsio writes the rows
    /// in chunks itself).
    func writeColumns(name: String, columns: [(String, [Double])]) throws {
        let rows = columns.first?.1.count ?? 0
        var status: Int32 = 0
        var namePointers = columns.map { strdup($0.0) }
        var formPointers = columns.map { _ in strdup("1D") }
        defer {
            namePointers.forEach { free($0) }
            formPointers.forEach { free($0) }
        }
        ffcrtb(handle, BINARY_TBL, Int64(rows), Int32(columns.count), &namePointers, &formPointers, nil, name, &status)
        try check(status, "ffcrtb", "creating table \(name)")
        for (index, (column, values)) in columns.enumerated() where !values.isEmpty {
            var cells = values
            ffpcl(handle, TDOUBLE, Int32(index + 1), 1, 1, Int64(values.count), &cells, &status)
            try check(status, "ffpcl", "writing column \(column)")
        }
    }

    /// Moves to the first binary table HDU; false if the file has none.
    func moveToFirstTable() throws -> Bool {
        var index = 0
        while let isImage = try moveIfPresent(to: index) {
            if !isImage {
                var type: Int32 = 0, status: Int32 = 0
                ffghdt(handle, &type, &status)
                try check(status, "ffghdt", "reading HDU \(index)'s type")
                if type == BINARY_TBL { return true }
            }
            index += 1
        }
        return false
    }

    /// Every column of the current binary table, read as doubles (integer and float columns;
    /// a column of another kind is an error naming it).
    func readColumns() throws -> [(String, [Double])] {
        var status: Int32 = 0
        var count: Int32 = 0
        ffgncl(handle, &count, &status)
        try check(status, "ffgncl", "counting table columns")
        let rows = try rowCount()
        let header = try readHeader()
        var result: [(String, [Double])] = []
        for number in 1...max(1, Int(count)) where count > 0 {
            let name = header["TTYPE\(number)"]?.stringValue?.trimmingCharacters(in: .whitespaces) ?? "col\(number)"
            let form = header["TFORM\(number)"]?.stringValue?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
            guard let code = form.last, "BIJKED".contains(code), form.dropLast().allSatisfy(\.isNumber), Int(form.dropLast()) ?? 1 == 1
            else {
                throw FITSError(
                    path: path, kind: .corruptFile, message: "column \(name) has format '\(form)', not one number per row",
                    context: "reading a catalog")
            }
            var values = [Double](repeating: 0, count: rows)
            var anyNull: Int32 = 0
            if rows > 0 {
                ffgcv(handle, TDOUBLE, Int32(number), 1, 1, Int64(rows), nil, &values, &anyNull, &status)
                try check(status, "ffgcv", "reading column \(name)")
            }
            result.append((name, values))
        }
        return result
    }

    /// The value of a numeric column in a row (1-based) of the current table HDU, or nil if
    /// the table has no such column.
    func readDouble(column: String, row: Int = 1) throws -> Double? {
        guard let number = try columnNumber(column) else { return nil }
        var value = 0.0, anyNull: Int32 = 0, status: Int32 = 0
        ffgcv(handle, TDOUBLE, number, Int64(row), 1, 1, nil, &value, &anyNull, &status)
        try check(status, "ffgcv", "reading column \(column) row \(row)")
        return value
    }

    /// The text of a string column in a row (1-based).
    func readString(column: String, row: Int) throws -> String? {
        guard let number = try columnNumber(column) else { return nil }
        var status: Int32 = 0
        var buffer = [CChar](repeating: 0, count: 128)
        var anyNull: Int32 = 0
        try buffer.withUnsafeMutableBufferPointer { pointer in
            var cell: UnsafeMutablePointer<CChar>? = pointer.baseAddress
            var empty: [CChar] = [0]
            ffgcvs(handle, number, Int64(row), 1, 1, &empty, &cell, &anyNull, &status)
            try check(status, "ffgcvs", "reading column \(column) row \(row)")
        }
        return cString(buffer).trimmingCharacters(in: .whitespaces)
    }

    /// The 1-based number of a column of the current table HDU, or nil if there is none.
    private func columnNumber(_ column: String) throws -> Int32? {
        var number: Int32 = 0, status: Int32 = 0
        var template = Array(column.utf8CString)
        ffgcno(handle, CASEINSEN, &template, &number, &status)
        // 219: no column matches; 237: several columns match (a corrupted table).
        if status == FITSStatus.columnNotFound.rawValue || status == 237 {
            ffcmsg()
            return nil
        }
        try check(status, "ffgcno", "finding column \(column)")
        return number
    }

    /// The number of rows of the current table HDU.
    func rowCount() throws -> Int {
        var rows = 0, status: Int32 = 0
        ffgnrw(handle, &rows, &status)
        try check(status, "ffgnrw", "counting table rows")
        return rows
    }
}

extension Metadata {
    /// Appends a card even if the key exists (FITS headers may repeat keys).
    mutating func append(_ key: String, _ value: JSONValue, comment: String) {
        set(key, value, comment: comment)
    }
}

extension FITSFile {
    /// The value of one keyword of the current HDU, or nil if absent.
    func readKey(_ name: String) throws -> JSONValue? {
        var value = [CChar](repeating: 0, count: 80)
        var comment = [CChar](repeating: 0, count: 80)
        var status: Int32 = 0
        ffgkey(handlePointer, name, &value, &comment, &status)
        if status == FITSStatus.keywordNotFound.rawValue {
            ffcmsg()
            return nil
        }
        try CFitsio.check(status, "ffgkey", path: path, context: "reading keyword \(name)")
        return Self.parseValue(cString(value))
    }
}

extension FITSFile {
    /// Where every 2-D image's pixels lie in the file (``ByteLayout``): an uncompressed
    /// image's rows, a tile-compressed one's tiles in its heap (every data column's piece of
    /// each tile). Everything else — headers, tile tables, binary-table HDUs — is what a ranged
    /// read always fetches.
    func byteLayout() throws -> ByteLayout {
        guard let raw else {
            throw FITSError(path: path, kind: .invalidRequest, message: "opened for writing", context: "reading the byte layout")
        }
        var planes: [ByteLayout.Plane] = []
        var index = 0
        while let isImage = try moveIfPresent(to: index) {
            defer { index += 1 }
            guard isImage, let axes = try? imageShape().axes, axes.count == 2, axes[0] > 0, axes[1] > 0 else { continue }
            var status: Int32 = 0
            var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
            ffghadll(handle, &headStart, &dataStart, &dataEnd, &status)
            try check(status, "ffghadll", "locating HDU \(index)")
            let xy0 = FITSWcs.xy0(from: try readHeader(keeping: FITSWcs.isWcsKeyword))
            let box = Box2I(min: xy0, extent: Extent2I(axes[0], axes[1]))
            let end = min(dataEnd, raw.size)
            if fits_is_compressed_image(handle, &status) == 0 {
                var bitpix: Int32 = 0
                ffgidt(handle, &bitpix, &status)
                try check(status, "ffgidt", "reading the pixel type of HDU \(index)")
                planes.append(
                    ByteLayout.Plane(
                        name: "HDU \(index)", box: box, spans: [dataStart..<end],
                        storage: .rows(start: dataStart, bytesPerPixel: Int64(abs(bitpix) / 8))))
                continue
            }
            let table = try tileTable(raw)
            let tileWidth = Int(max(min(table.value("ZTILE1", Int64(axes[0])), Int64(axes[0])), 1))
            let tileHeight = Int(max(min(table.value("ZTILE2", 1), Int64(axes[1])), 1))
            var tiles = [[Int64]](repeating: [], count: Int(max(0, min(table.rows, 1 << 24))))
            try forEachTile(rows: Int64(tiles.count), heap: table.heap) { _, row, offset, bytes in
                if bytes > 0 { tiles[Int(row)] += [table.heapStart + offset, bytes] }
            }
            let heapStart = table.heapStart
            planes.append(
                ByteLayout.Plane(
                    name: "HDU \(index)", box: box, spans: [heapStart..<max(heapStart, end)],
                    storage: .tiles(width: tileWidth, height: tileHeight, tiles: tiles)))
        }
        return ByteLayout(fileSize: raw.size, planes: planes)
    }
}

/// GZIP tiles already inflated soundly, by file (device, inode, size, modification time) and
/// HDU: the check before cfitsio reads a tile is a full decode, which repeated cutouts of one
/// image would otherwise pay on every read. Bounded: forgotten wholesale past a million tiles.
final class VerifiedTiles: Sendable {
    static let shared = VerifiedTiles()

    /// One HDU's data in one version of one file.
    struct File: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: Int64
        let dataStart: Int64

        init(_ info: stat, dataStart: Int64) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            self.dataStart = dataStart
        }
    }

    private struct Tile: Hashable {
        let file: File
        let row: Int64
    }

    /// A tile's compressed bytes (their SHA-256) and the bound they were found to inflate
    /// within.
    struct Content: Hashable, Sendable {
        let digest: SHA256Digest
        let bound: Int64

        init(_ compressed: [UInt8], bound: Int64) {
            digest = SHA256.hash(data: compressed)
            self.bound = bound
        }
    }

    private let tiles = Mutex<Set<Tile>>([])
    private let contents = Mutex<Set<Content>>([])
    private static let capacity = 1 << 20

    func contains(_ file: File, tile row: Int64) -> Bool {
        tiles.withLock { $0.contains(Tile(file: file, row: row)) }
    }

    func insert(_ file: File, tile row: Int64) {
        tiles.withLock { tiles in
            if tiles.count >= Self.capacity { tiles.removeAll() }
            tiles.insert(Tile(file: file, row: row))
        }
    }

    func contains(_ content: Content) -> Bool {
        contents.withLock { $0.contains(content) }
    }

    func insert(_ content: Content) {
        contents.withLock { contents in
            if contents.count >= Self.capacity { contents.removeAll() }
            contents.insert(content)
        }
    }
}

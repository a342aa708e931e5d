/// Where a FITS file's headers, tables and small HDUs lie, found by reading the file from its
/// start one header after another — for an artifact read by range with no byte layout recorded
/// (a repository older than layouts, an imported dataset): with those bytes in place cfitsio
/// can find the rest of the layout (``FITSFile/byteLayout()``).
///
/// Pure Swift over a `read` function, so that it runs on bytes fetched from S3 or HTTP before
/// any of the file exists locally; only the cards that size an HDU are parsed.
enum FITSHeaderWalk {
    /// The byte ranges of everything but pixel data: every header, the table part of a
    /// tile-compressed image (its tile descriptors), the whole data of any HDU that is not a
    /// 2-D image. `read` returns the bytes of a range of the file (`fileSize` bytes long).
    /// - Throws: ``FITSError`` (`corruptFile`) naming `path` when a header is not FITS.
    static func metadataRanges(fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]) throws -> [Range<Int64>] {
        var ranges: [Range<Int64>] = []
        var offset: Int64 = 0
        var index = 0
        while offset + 2880 <= fileSize {
            let (cards, dataStart) = try header(at: offset, index: index, fileSize: fileSize, path: path, read: read)
            ranges.append(offset..<dataStart)
            let hdu = try HDUShape(cards, index: index, path: path)
            guard hdu.dataBytes <= fileSize - dataStart else {
                throw FITSError(
                    path: path, kind: .corruptFile,
                    message:
                        "HDU \(index) holds \(hdu.dataBytes) bytes of data after byte \(dataStart), past the file's end at \(fileSize) (truncated?)",
                    context: "walking the headers")
            }
            let dataEnd = dataStart + (hdu.dataBytes + 2879) / 2880 * 2880
            if let tableBytes = hdu.compressedTableBytes {
                ranges.append(dataStart..<min(dataStart + tableBytes, dataEnd))
            } else if !hdu.isImagePlane {
                ranges.append(dataStart..<dataEnd)
            }
            offset = dataEnd
            index += 1
        }
        return ranges.map { $0.clamped(to: 0..<fileSize) }.filter { !$0.isEmpty }
    }

    /// The cards of the header at `offset` (value fields by keyword) and where its data start.
    private static func header(
        at offset: Int64, index: Int, fileSize: Int64, path: String, read: (Range<Int64>) throws -> [UInt8]
    ) throws -> (cards: [String: String], dataStart: Int64) {
        var cards: [String: String] = [:]
        var position = offset
        for block in 0..<RawFITSFile.maxHeaderBlocks {
            guard position + 2880 <= fileSize else {
                throw FITSError(
                    path: path, kind: .corruptFile, message: "the file ends inside the header of HDU \(index) (truncated?)",
                    context: "walking the headers")
            }
            let bytes = try read(position..<position + 2880)
            guard bytes.count == 2880 else {
                throw FITSError(
                    path: path, kind: .ioFailure, message: "read \(bytes.count) of 2880 bytes at \(position)",
                    context: "walking the headers")
            }
            position += 2880
            for start in stride(from: 0, to: 2880, by: 80) {
                let key = RawFITSFile.keyword(bytes, start)
                if block == 0, start == 0, key != (index == 0 ? "SIMPLE" : "XTENSION") {
                    throw FITSError(
                        path: path, kind: .corruptFile,
                        message: "HDU \(index) at byte \(offset) starts with '\(key)', not \(index == 0 ? "SIMPLE" : "XTENSION")",
                        context: "walking the headers")
                }
                if key == "END" { return (cards, position) }
                if cards[key] == nil { cards[key] = RawFITSFile.value(bytes, start) }
            }
        }
        throw FITSError(
            path: path, kind: .corruptFile, message: "the header of HDU \(index) is longer than \(RawFITSFile.maxHeaderBlocks) blocks",
            context: "walking the headers")
    }

    /// What the sizing cards of one header say.
    private struct HDUShape {
        /// The data's length before padding (FITS standard §4.4.1).
        let dataBytes: Int64
        /// A plain 2-D image, whose data are pixels only.
        let isImagePlane: Bool
        /// For a tile-compressed 2-D image, the bytes before its heap (the tile descriptors).
        let compressedTableBytes: Int64?

        init(_ cards: [String: String], index: Int, path: String) throws {
            func integer(_ key: String, default fallback: Int64? = nil) throws -> Int64 {
                if let text = cards[key], let value = Int64(text) { return value }
                if cards[key] == nil, let fallback { return fallback }
                throw FITSError(
                    path: path, kind: .corruptFile, message: "HDU \(index) has \(key) = \(cards[key] ?? "nothing"), not an integer",
                    context: "walking the headers")
            }
            let bitpix = try integer("BITPIX")
            let naxis = try integer("NAXIS")
            guard [8, 16, 32, 64, -32, -64].contains(bitpix), (0...999).contains(naxis) else {
                throw FITSError(
                    path: path, kind: .corruptFile, message: "HDU \(index) has BITPIX = \(bitpix), NAXIS = \(naxis)",
                    context: "walking the headers")
            }
            let axes = try (0..<naxis).map { try integer("NAXIS\($0 + 1)") }
            guard axes.allSatisfy({ $0 >= 0 }) else {
                throw FITSError(path: path, kind: .corruptFile, message: "HDU \(index) has a negative axis", context: "walking the headers")
            }
            let pcount = try integer("PCOUNT", default: 0)
            let gcount = try integer("GCOUNT", default: 1)
            var elements: Int64 = naxis == 0 ? 0 : 1
            var overflow = false
            for axis in axes where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: axis) }
            var bytes: Int64 = 0
            if !overflow { (bytes, overflow) = elements.addingReportingOverflow(pcount) }
            if !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: Int64(abs(bitpix) / 8)) }
            if !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: gcount) }
            guard !overflow, pcount >= 0, gcount >= 0 else {
                throw FITSError(
                    path: path, kind: .corruptFile, message: "HDU \(index) has an impossible data size", context: "walking the headers")
            }
            dataBytes = bytes
            // A string value is quoted and may be followed by a comment: `'IMAGE   '  / …`.
            let kind = index == 0 ? "IMAGE" : cards["XTENSION"].map { $0.split(separator: "'").first?.trimmingSuffix(" ") ?? "" } ?? ""
            isImagePlane = kind == "IMAGE" && naxis == 2 && axes.allSatisfy { $0 > 0 }
            if kind == "BINTABLE", cards["ZIMAGE"] == "T", cards["ZNAXIS"] == "2", axes.count == 2 {
                compressedTableBytes = try integer("THEAP", default: axes[0] * axes[1])
            } else {
                compressedTableBytes = nil
            }
        }
    }
}

extension Substring {
    /// The text without trailing `character`s.
    fileprivate func trimmingSuffix(_ character: Character) -> String {
        var text = self
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}

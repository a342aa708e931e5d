import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a FITS file read directly, for checks that must happen before cfitsio parses
/// them: its length (an uncompressed image's data must fit in it) and the cards of a header.
final class RawFITSFile {
    private let descriptor: Int32
    let path: String
    /// The file's length in bytes.
    let size: Int64

    /// Opens `path` read-only; a missing file is ``FileErrorKind/missingFile``.
    init(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let failure = FileIOError(operation: "open", path: path, errno: errno)
            throw FITSError(
                path: path, kind: failure.kind, message: failure.kind == .missingFile ? "no such file" : "\(failure)", context: "opening")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let failure = FileIOError(operation: "stat", path: path, errno: errno)
            close(descriptor)
            throw FITSError(path: path, kind: .ioFailure, message: "\(failure)", context: "opening")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw FITSError(path: path, kind: .corruptFile, message: "not a regular file", context: "opening")
        }
        self.descriptor = descriptor
        self.path = path
        self.size = Int64(info.st_size)
    }

    deinit { close(descriptor) }

    /// The value fields of the cards between `start` and `end` (a header's bytes), by keyword;
    /// read directly, so that looking up optional keywords never touches cfitsio's error stack.
    func cardValues(from start: Int64, to end: Int64) throws -> [String: String] {
        let header = try bytes(at: start, count: Int(max(0, min(end - start, Int64(Self.maxHeaderBlocks) * 2880))))
        var values: [String: String] = [:]
        var card = 0
        while card + 80 <= header.count {
            let key = Self.keyword(header, card)
            if key == "END" { break }
            let value = Self.value(header, card)
            if !value.isEmpty && values[key] == nil { values[key] = value }
            card += 80
        }
        return values
    }

    /// `count` bytes from `offset` (fewer at the end of the file).
    func bytes(at offset: Int64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(0, count))
        let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard read >= 0 else {
            throw FITSError(
                path: path, kind: .ioFailure, message: "\(FileIOError(operation: "read", path: path, errno: errno))",
                context: "reading bytes")
        }
        return Array(buffer.prefix(read))
    }

    /// The tile-compression keywords cfitsio reads as numbers while opening a compressed
    /// image; a long non-numeric value of one of them aborts cfitsio 4.2.
    private static let numericCompressionKeys: Set<String> = [
        "ZBITPIX", "ZNAXIS", "ZBLANK", "ZZERO", "ZSCALE", "ZDITHER0", "ZPCOUNT", "ZGCOUNT", "ZTHEAP",
    ]
    private static let numericCompressionPrefixes = ["ZNAXIS", "ZTILE", "ZVAL"]
    /// The most header blocks read for one HDU (100,000 cards).
    static let maxHeaderBlocks = 2778

    /// What is wrong with the header that starts at `offset`, or nil when cfitsio can parse it
    /// safely. Only binary tables (where compressed images live) need more than a first look.
    func headerProblem(at offset: Int64) throws -> String? {
        var block = [UInt8](repeating: 0, count: 2880)
        var position = offset
        var first = true
        for _ in 0..<Self.maxHeaderBlocks {
            let count = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 2880, off_t(position)) }
            if count < 0 {
                throw FITSError(
                    path: path, kind: .ioFailure, message: "\(FileIOError(operation: "read", path: path, errno: errno))",
                    context: "reading a header")
            }
            guard count == 2880 else { return "the file ends inside this header, at byte \(size) (truncated?)" }
            for card in 0..<36 {
                let start = card * 80
                if first {
                    first = false
                    // Images and ASCII tables hold no compressed image: nothing more to check.
                    guard Self.keyword(block, start) == "XTENSION", Self.value(block, start).hasPrefix("'BINTABLE") else { return nil }
                    continue
                }
                // Only Z… cards and END matter: look at bytes before making strings.
                let lead = block[start]
                if lead == UInt8(ascii: "E"), Self.keyword(block, start) == "END" { return nil }
                guard lead == UInt8(ascii: "Z") else { continue }
                let key = Self.keyword(block, start)
                guard Self.isNumericCompressionKey(key) else { continue }
                let value = Self.value(block, start)
                // One number, no blanks inside: cfitsio reads "0    4" as 0.
                if value.isEmpty || value.count > 30 || !value.allSatisfy({ "0123456789+-.EeDd".contains($0) }) {
                    let shown = value.count > 20 ? String(value.prefix(20)) + "…" : value
                    return "compression keyword \(key) holds \(shown.isEmpty ? "no value" : shown), not a number"
                }
                // cfitsio divides by tile sizes as it opens the HDU (FuzzFITS: a zero is SIGFPE).
                if key.hasPrefix("ZTILE"), (Double(value) ?? 0) < 1 {
                    return "compression keyword \(key) holds \(value), not a tile size of at least 1"
                }
            }
            position += 2880
        }
        return "the header is longer than \(Self.maxHeaderBlocks) blocks"
    }

    private static func isNumericCompressionKey(_ key: String) -> Bool {
        if numericCompressionKeys.contains(key) { return true }
        for prefix in numericCompressionPrefixes where key.hasPrefix(prefix) {
            if key.dropFirst(prefix.count).allSatisfy(\.isNumber) && key.count > prefix.count { return true }
        }
        return false
    }

    /// The keyword of the card at `start` (columns 1–8, trailing blanks removed).
    static func keyword(_ block: [UInt8], _ start: Int) -> String {
        var end = start + 8
        while end > start && block[end - 1] == 0x20 { end -= 1 }
        return String(decoding: block[start..<end], as: UTF8.self)
    }

    /// The value field of a card with a value indicator (columns 11–80, up to a comment),
    /// trimmed; empty when the card has none.
    static func value(_ block: [UInt8], _ start: Int) -> String {
        guard block[start + 8] == UInt8(ascii: "="), block[start + 9] == 0x20 else { return "" }
        var bytes = block[(start + 10)..<(start + 80)]
        if bytes.first(where: { $0 != 0x20 }) != UInt8(ascii: "'"), let slash = bytes.firstIndex(of: UInt8(ascii: "/")) {
            bytes = bytes[..<slash]
        }
        // Trimmed as bytes: Foundation's trimming bridges through NSString on Linux.
        while let first = bytes.first, first == 0x20 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

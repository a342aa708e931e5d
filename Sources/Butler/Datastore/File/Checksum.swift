import CChecksum
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How artifact checksums are computed and recorded (`<algorithm>:<hex>`). A recorded checksum
/// names its algorithm, so artifacts written under one setting verify after it changes.
public enum ChecksumAlgorithm: String, Sendable, Codable, CaseIterable {
    /// CRC-32C (Castagnoli) over the artifact bytes: an integrity check, not a cryptographic
    /// one, chosen by measurement as the default (42 ms over a 201 MB image against 148 ms for
    /// SHA-256, reading the file taking 27 ms — BENCHMARKS.md, issue 14).
    case crc32c
    /// SHA-256 over the artifact bytes (repositories made before CRC-32C was the default).
    case sha256
    /// No checksum (fastest; integrity then rests on the file system).
    case none

    /// The algorithm a recorded checksum names, nil when it names none this version knows.
    public static func of(recorded checksum: String) -> ChecksumAlgorithm? {
        guard let colon = checksum.firstIndex(of: ":") else { return nil }
        return ChecksumAlgorithm(rawValue: String(checksum[..<colon])).flatMap { $0 == .none ? nil : $0 }
    }

    /// The checksum of the file at `path` as recorded (`crc32c:1a2b3c4d`), or nil for `.none`.
    /// - Throws: ``ButlerError/Code/storageFailure`` naming the file when it cannot be read.
    public func checksum(ofFileAt path: String) throws -> String? {
        switch self {
        case .none:
            return nil
        case .crc32c:
            var crc: UInt32 = 0
            try Self.chunks(of: path) { crc = butler_crc32c(crc, $0.baseAddress, $0.count) }
            return "crc32c:" + hexDigits(withUnsafeBytes(of: crc.bigEndian) { Array($0) })
        case .sha256:
            var hasher = SHA256()
            try Self.chunks(of: path) { hasher.update(bufferPointer: $0) }
            return "sha256:" + hexDigits(hasher.finalize())
        }
    }

    /// Feeds the file's bytes to `body` in 4 MiB pieces, read with read(2) into one buffer.
    private static func chunks(of path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ButlerError(.storageFailure, "cannot open \(path) to checksum it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let size = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer, size)
            if count < 0 {
                if errno == EINTR { continue }
                throw ButlerError(.storageFailure, "cannot read \(path) to checksum it: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return }
            body(UnsafeRawBufferPointer(start: buffer, count: count))
        }
    }
}

/// Lower-case hex of bytes (checksums, S3 payload hashes and signatures).
func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

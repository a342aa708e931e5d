import Crypto
import Foundation

/// How artifact checksums are computed and recorded (`sha256:<hex>`).
public enum ChecksumAlgorithm: String, Sendable, Codable, CaseIterable {
    /// SHA-256 over the artifact bytes.
    case sha256
    /// No checksum (fastest; integrity then rests on the file system).
    case none

    /// The recorded checksum of the file at `path`, or nil for `.none`.
    func checksum(ofFileAt path: String) throws -> String? {
        guard self == .sha256 else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ButlerError(.storageFailure, "cannot open \(path) to checksum it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return "sha256:" + String(decoding: hex, as: UTF8.self)
    }
}

import Crypto

/// SHA-1 for name-based UUIDs only (RFC 9562 fixes the hash; it is not used for security).
enum SHA1Digest {
    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: bytes))
    }
}

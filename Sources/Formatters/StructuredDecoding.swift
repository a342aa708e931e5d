import Composites
import Foundation

/// Lets a JSON or YAML decoder build a storage class's default type, known only at run time.
///
/// `JSONDecoder.decode` needs a static type; this wrapper is that type, and it forwards the
/// `Decoder` it is handed to the storage class's captured initialiser (passed in `userInfo`).
struct DefaultTypeDecoding: Decodable {
    static let key = CodingUserInfoKey(rawValue: "butler.storageClassDecoder")!
    let value: any Sendable

    init(from decoder: any Decoder) throws {
        guard let box = decoder.userInfo[Self.key] as? DecoderBox else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [], debugDescription: "no storage class decoder supplied"))
        }
        value = try box.decode(decoder)
    }

    /// Carries the captured initialiser through `userInfo`.
    final class DecoderBox: Sendable {
        let decode: @Sendable (any Decoder) throws -> any Sendable
        init(_ decode: @escaping @Sendable (any Decoder) throws -> any Sendable) { self.decode = decode }
    }
}

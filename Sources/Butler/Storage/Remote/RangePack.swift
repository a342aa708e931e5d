import Formatters
import Foundation

/// The headers, tables and attributes of a remote artifact (its byte layout's metadata ranges,
/// with their bytes), kept in the artifact cache beside where the whole artifact would be, so
/// that a second cutout of the same artifact fetches only pixels: on S3, where every range is
/// a request, that is most of a cutout's requests. Holds the layout too when it was learned
/// from the headers (none was recorded).
///
/// One file: a magic line, the length of a JSON description (layout, ranges), the JSON, then
/// the ranges' bytes in order.
struct RangePack {
    /// The layout learned from the headers, when the record had none.
    let layout: ByteLayout?
    /// The ranges and their bytes.
    let contents: [(Range<Int64>, Data)]

    private static let magic = Data("butler-ranges 1\n".utf8)

    private struct Description: Codable {
        var layout: ByteLayout?
        var ranges: [[Int64]]
    }

    /// Reads a pack.
    /// - Throws: when the file is not a whole pack.
    init(contentsOf path: String) throws {
        let data = try FileIO.read(URL(filePath: path, directoryHint: .notDirectory))
        let headerEnd = Self.magic.count + 8
        guard data.count >= headerEnd, data.prefix(Self.magic.count) == Self.magic else { throw PackError(path: path) }
        let length = data[Self.magic.count..<headerEnd].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 0, data.count >= headerEnd + length else { throw PackError(path: path) }
        let description = try JSONDecoder().decode(Description.self, from: data[headerEnd..<headerEnd + length])
        var offset = headerEnd + length
        var contents: [(Range<Int64>, Data)] = []
        for pair in description.ranges {
            guard pair.count == 2, pair[0] >= 0, pair[1] >= pair[0], data.count - offset >= Int(pair[1] - pair[0]) else {
                throw PackError(path: path)
            }
            let count = Int(pair[1] - pair[0])
            contents.append((pair[0]..<pair[1], data[offset..<offset + count]))
            offset += count
        }
        guard offset == data.count else { throw PackError(path: path) }
        layout = description.layout
        self.contents = contents
    }

    /// Writes a pack of `ranges` of `file` (and `layout`, when learned) to `path`.
    static func write(layout: ByteLayout?, ranges: [Range<Int64>], of file: PartialArtifact, to path: String) throws {
        let description = Description(layout: layout, ranges: ranges.map { [$0.lowerBound, $0.upperBound] })
        let json = try JSONEncoder().encode(description)
        var data = magic
        data.append(contentsOf: (0..<8).reversed().map { UInt8(truncatingIfNeeded: json.count >> ($0 * 8)) })
        data.append(json)
        for range in ranges { data.append(contentsOf: try file.read(range)) }
        try FileIO.write(data, to: URL(filePath: path, directoryHint: .notDirectory))
    }

    struct PackError: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is not a whole pack of byte ranges" }
    }
}

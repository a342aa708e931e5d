public import Composites

/// Where an image file's pixels lie, byte by byte, so that a read of part of a remote artifact
/// fetches only the bytes it needs: recorded when the artifact is written (the datastore keeps
/// it beside the artifact's record), used to plan ranged requests.
///
/// The file is seen as *pixel planes* (an image HDU, a tile-compressed HDU's heap, a chunked
/// HDF5 dataset) and everything else — headers, tile tables, HDF5 object headers and B-trees,
/// small HDUs and attributes. A read always gets everything else (it is small, and the C
/// libraries walk it) and, of each plane, the rows, tiles or chunks that overlap its box.
public struct ByteLayout: Sendable, Hashable, Codable {
    /// The artifact's size in bytes.
    public var fileSize: Int64
    /// The pixel planes.
    public var planes: [Plane]

    /// One plane of pixels and where its bytes are.
    public struct Plane: Sendable, Hashable, Codable {
        /// The plane's name, for messages (`HDU 1`, `/image`).
        public var name: String
        /// The plane's box in parent coordinates (its xy0 and size).
        public var box: Box2I
        /// The bytes that belong to the plane (its data, heap or chunks, with padding): only
        /// the parts a read touches are fetched. `[start, end]` pairs.
        public var spans: [Int64]
        /// How a pixel box maps to bytes.
        public var storage: Storage

        /// Describes a plane.
        public init(name: String, box: Box2I, spans: [Range<Int64>], storage: Storage) {
            self.name = name
            self.box = box
            self.spans = spans.flatMap { [$0.lowerBound, $0.upperBound] }
            self.storage = storage
        }
    }

    /// How a plane's pixels are laid out.
    public enum Storage: Sendable, Hashable, Codable {
        /// Uncompressed rows, first axis fastest, starting at byte `start`.
        case rows(start: Int64, bytesPerPixel: Int64)
        /// Tiles (or chunks) of `width` × `height` pixels, row-major from the first pixel;
        /// `tiles[i]` lists the `[offset, length]` pairs holding tile `i` (empty for a tile
        /// never written, which reads as the fill value).
        case tiles(width: Int, height: Int, tiles: [[Int64]])
    }

    /// Describes a file.
    public init(fileSize: Int64, planes: [Plane]) {
        self.fileSize = fileSize
        self.planes = planes
    }

    /// What a read needs of the file.
    public enum Need: Sendable, Hashable {
        /// Headers, tables and attributes: no pixels (a `wcs`, `psf`, `visitInfo` read).
        case metadata
        /// Those and the pixels of every plane within a box.
        case box(Box2I, ImageOrigin)
    }

    /// The byte ranges a read needs, sorted and disjoint; nil when the box is not inside
    /// every plane (the read will fail on the box, and the whole file says how).
    public func ranges(for need: Need) -> [Range<Int64>]? {
        var planeBytes: [Range<Int64>] = []
        for plane in planes {
            for index in stride(from: 0, to: plane.spans.count - 1, by: 2) {
                let (start, end) = (plane.spans[index], plane.spans[index + 1])
                if start < end { planeBytes.append(start..<end) }
            }
        }
        var needed = Self.complement(of: planeBytes, within: 0..<fileSize)
        if case .box(let requested, let origin) = need {
            for plane in planes {
                guard let cutout = try? Cutout(requested, origin: origin, imageBox: plane.box) else { return nil }
                needed += plane.ranges(local: cutout.local)
            }
        }
        return Self.coalesce(needed, gap: 0)
    }

    /// Sorted, merged ranges: neighbours closer than `gap` bytes become one (fetching the gap
    /// costs less than another request).
    public static func coalesce(_ ranges: [Range<Int64>], gap: Int64) -> [Range<Int64>] {
        var merged: [Range<Int64>] = []
        for range in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + gap {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The parts of `whole` no range covers.
    public static func complement(of ranges: [Range<Int64>], within whole: Range<Int64>) -> [Range<Int64>] {
        var gaps: [Range<Int64>] = []
        var cursor = whole.lowerBound
        for range in coalesce(ranges, gap: 0) {
            if range.lowerBound > cursor { gaps.append(cursor..<min(range.lowerBound, whole.upperBound)) }
            cursor = max(cursor, range.upperBound)
        }
        if cursor < whole.upperBound { gaps.append(cursor..<whole.upperBound) }
        return gaps.filter { !$0.isEmpty }
    }
}

extension ByteLayout.Plane {
    /// The bytes of the pixels in `local` (0-based, inside the plane).
    func ranges(local: Box2I) -> [Range<Int64>] {
        switch storage {
        case .rows(let start, let bytesPerPixel):
            let rowBytes = Int64(box.width) * bytesPerPixel
            return (local.min.y...local.max.y).map { y in
                let first = start + Int64(y) * rowBytes + Int64(local.min.x) * bytesPerPixel
                return first..<first + Int64(local.width) * bytesPerPixel
            }
        case .tiles(let width, let height, let tiles):
            guard width > 0, height > 0 else { return [] }
            let perRow = (box.width + width - 1) / width
            var ranges: [Range<Int64>] = []
            for row in local.min.y / height...local.max.y / height {
                for column in local.min.x / width...local.max.x / width {
                    let index = row * perRow + column
                    guard index < tiles.count else { continue }
                    let pairs = tiles[index]
                    for pair in stride(from: 0, to: pairs.count - 1, by: 2) where pairs[pair + 1] > 0 {
                        ranges.append(pairs[pair]..<pairs[pair] + pairs[pair + 1])
                    }
                }
            }
            return ranges
        }
    }
}

extension ByteLayout {
    /// The layout of a FITS file: every 2-D image HDU, plain or tile-compressed.
    public static func fits(at path: String) throws -> ByteLayout {
        try FITSFile.open(path).byteLayout()
    }

    /// Components of an image or exposure file read from headers, tables and attributes
    /// alone, never from pixels.
    static let metadataComponents: Set<String> = [
        "wcs", "bbox", "dimensions", "xy0", "visitInfo", "metadata", "psf", "photoCalib",
    ]

    /// What an image or exposure read needs: its metadata for a header component, the pixels
    /// in the box for a `bbox` read (of the whole value or a pixel component), the whole file
    /// otherwise (nil) — a full read, or parameters the formatter would refuse (it says why).
    static func need(component: String?, parameters: ReadParameters, pixelComponents: Set<String>) -> Need? {
        guard let (box, origin) = try? ImageParameters.parse(parameters, formatter: "", path: "") else { return nil }
        if let component, metadataComponents.contains(component) { return .metadata }
        guard let box, component.map(pixelComponents.contains) ?? true else { return nil }
        return .box(box, origin)
    }
}

import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// PNG previews (issue 15 point 7): zscale limits equal astropy's, and the PNG is a real one
/// (zlib-deflated, filtered rows) that decodes to the gray levels computed.
@Suite("Image previews")
struct PreviewTests {
    static func arrays() -> [[Double]] {
        var generator = SplitMix64(state: 42)
        func noise(_ count: Int, sky: Double, sigma: Double) -> [Double] {
            (0..<count).map { _ in
                // Box-Muller from two uniforms.
                let u = Double.random(in: 1e-12..<1, using: &generator)
                let v = Double.random(in: 0..<1, using: &generator)
                return sky + sigma * (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
            }
        }
        var stars = noise(40_000, sky: 1000, sigma: 30)
        for index in stride(from: 17, to: stars.count, by: 997) { stars[index] += 50_000 }
        var holes = noise(5_000, sky: 10, sigma: 3)
        for index in stride(from: 0, to: holes.count, by: 50) { holes[index] = .nan }
        return [noise(100_000, sky: 500, sigma: 20), stars, holes, noise(300, sky: 0, sigma: 1), Array(repeating: 7, count: 2000)]
    }

    @Test("zscale limits are astropy's ZScaleInterval's")
    func zscaleMatchesAstropy() throws {
        let arrays = Self.arrays()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("zscale-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let json =
            "[" + arrays.map { "[" + $0.map { $0.isNaN ? "null" : "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        try json.write(to: file, atomically: true, encoding: .utf8)
        let expected = try JSONDecoder().decode([[Double]].self, from: try ReferencePython.run("zscale.py", [file.path]))
        for (values, limits) in zip(arrays, expected) {
            let (low, high) = ImageStretch.zscaleLimits(values)
            #expect(
                abs(low - limits[0]) <= 1e-6 * max(1, abs(limits[0])) && abs(high - limits[1]) <= 1e-6 * max(1, abs(limits[1])),
                "ours \(low)…\(high), astropy \(limits[0])…\(limits[1])")
        }
    }

    @Test("a preview PNG decodes (zlib, filtered rows) to the gray levels, top row first")
    func pngDecodes() throws {
        var image = Image<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(37, 21)))
        for y in 0..<21 { for x in 0..<37 { image[x, y] = Float(x * 10 + y) } }
        image[3, 4] = .nan
        for stretch in ImageStretch.allCases {
            let png = stretch.preview(image)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("preview-\(UUID().uuidString).png")
            defer { try? FileManager.default.removeItem(at: file) }
            try png.encoded().write(to: file)
            let program = """
                import struct, sys, zlib
                data = open(sys.argv[1], 'rb').read()
                assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
                pos, idat, size = 8, b'', None
                while pos < len(data):
                    length, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + length]
                    assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])[0]
                    if kind == b'IHDR': size = struct.unpack('>II', body[:8])
                    if kind == b'IDAT': idat += body
                    pos += 12 + length
                raw, (w, h), rows = zlib.decompress(idat), size, []
                for y in range(h):
                    line = raw[y * (w + 1):(y + 1) * (w + 1)]; assert line[0] == 1
                    row = []
                    for x in range(w): row.append((line[1 + x] + (row[-1] if x else 0)) % 256)
                    rows += row
                print(w, h, ','.join(map(str, rows)))
                """
            let (status, output) = try runPython(program, file.path)
            #expect(status == 0, "\(output)")
            let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            #expect(parts.count == 3 && parts[0] == "37" && parts[1] == "21")
            #expect(parts.last.map { $0.split(separator: ",").compactMap { UInt8($0) } } == png.pixels, "\(stretch)")
            // The bottom row of the image is the last of the PNG; the NaN is black.
            #expect(png.pixels[(21 - 1 - 4) * 37 + 3] == 0)
            #expect(png.pixels[(21 - 1) * 37] == 0 && png.pixels[36] == 255, "\(stretch)")
        }
    }
}

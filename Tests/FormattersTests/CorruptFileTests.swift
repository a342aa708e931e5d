import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// Variants of a valid file: truncations, byte flips and overwritten runs of bytes.
func corruptedVariants(of original: Data, count: Int, seed: UInt64) -> [(String, Data)] {
    var generator = SplitMix64(state: seed)
    var variants: [(String, Data)] = []
    for index in 0..<count {
        var data = original
        switch index % 3 {
        case 0:
            let length = Int.random(in: 0..<original.count, using: &generator)
            data = original.prefix(length)
            variants.append(("truncated to \(length) bytes", data))
        case 1:
            let flips = Int.random(in: 1...8, using: &generator)
            for _ in 0..<flips {
                let position = Int.random(in: 0..<data.count, using: &generator)
                data[position] ^= UInt8.random(in: 1...255, using: &generator)
            }
            variants.append(("\(flips) bytes flipped", data))
        default:
            let start = Int.random(in: 0..<data.count, using: &generator)
            let length = min(Int.random(in: 1...200, using: &generator), data.count - start)
            for position in start..<start + length { data[position] = UInt8.random(in: 0...255, using: &generator) }
            variants.append(("\(length) bytes overwritten at \(start)", data))
        }
    }
    return variants
}

@Suite("Corrupt and wrong files give clear errors, never crashes", .serialized)
struct CorruptFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func attempt(_ path: String, _ read: (String) throws -> Void) -> String? {
        do {
            try read(path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("hundreds of corrupted FITS files: an error naming the file, or a successful read")
    func corruptFITS() throws {
        let exposure = try Fixtures.exposure(Float.self, width: 48, height: 40) { x, y in Float(x - y) }
        let ours = directory.appendingPathComponent("tiled.fits").path
        try ExposureFITS.write(exposure, to: ours, compression: FITSCompression(.gzip, tile: Extent2I(16, 16)))
        var failures = 0
        for (source, seed) in [(ours, UInt64(1)), (TestData.hscCalexp, UInt64(2))] {
            let original = try Data(contentsOf: URL(fileURLWithPath: source))
            for (index, (what, data)) in corruptedVariants(of: original, count: 150, seed: seed).enumerated() {
                let path = directory.appendingPathComponent("variant-\(seed)-\(index).fits").path
                try data.write(to: URL(fileURLWithPath: path))
                if let message = attempt(path, { _ = try ExposureFITS.read(Float.self, from: $0) }) {
                    failures += 1
                    #expect(message.contains(path), "\(what): \(message)")
                }
                _ = attempt(path, { _ = try ExposureFITS.info(of: $0) })
                _ = attempt(path, { _ = try ExposureFITS.read(Float.self, from: $0, bbox: Box2I(x0: 2, y0: 2, x1: 9, y1: 9)) })
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        // Flips inside pixel data read back as (wrong) pixels; header, table and truncation damage must fail.
        #expect(failures > 50, "corrupted variants should mostly fail to read")
    }

    @Test("hundreds of corrupted HDF5 files: an error naming the file, or a successful read")
    func corruptHDF5() throws {
        let exposure = try Fixtures.exposure(Float.self, width: 48, height: 40) { x, y in Float(x + y) }
        let ours = directory.appendingPathComponent("chunked.h5").path
        try ExposureHDF5.write(exposure, to: ours, layout: HDF5Layout(chunk: Extent2I(16, 16), deflate: 2))
        let original = try Data(contentsOf: URL(fileURLWithPath: ours))
        var failures = 0
        for (index, (what, data)) in corruptedVariants(of: original, count: 200, seed: 3).enumerated() {
            let path = directory.appendingPathComponent("variant-\(index).h5").path
            try data.write(to: URL(fileURLWithPath: path))
            if let message = attempt(path, { _ = try ExposureHDF5.read(Float.self, from: $0) }) {
                failures += 1
                #expect(message.contains(path), "\(what): \(message)")
            }
            _ = attempt(path, { _ = try ExposureHDF5.info(of: $0) })
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(failures > 50)
    }

    @Test("missing planes, a missing file, a non-image file and a wrong pixel type are named clearly")
    func wrongFiles() throws {
        let missing = directory.appendingPathComponent("nope.fits").path
        let error = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: missing) }
        #expect("\(error!)".contains("nope.fits") && "\(error!)".contains("no such file"))
        let table = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: TestData.sourceCatalog) }
        #expect("\(table!)".contains("no 2-d image HDU"))
        let text = directory.appendingPathComponent("text.fits").path
        try Data("this is not FITS at all".utf8).write(to: URL(fileURLWithPath: text))
        let notFits = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: text) }
        #expect("\(notFits!)".contains("text.fits"))
        let h5 = directory.appendingPathComponent("int.h5").path
        try ExposureHDF5.write(try Fixtures.exposure(Int32.self) { x, _ in Int32(x) }, to: h5)
        let wrong = #expect(throws: HDF5Error.self) { try ExposureHDF5.read(Float.self, from: h5) }
        #expect("\(wrong!)".contains("int.h5") && "\(wrong!)".contains("Float32"))
        let notH5 = #expect(throws: HDF5Error.self) { try ExposureHDF5.read(Float.self, from: text) }
        #expect("\(notH5!)".contains("text.fits"))
    }

    /// Replaces the first card of `key` (after the primary header) with `key = value`.
    func replacingCard(_ key: String, with value: String, in data: Data) throws -> Data {
        let padded = Data(key.padding(toLength: 8, withPad: " ", startingAt: 0).utf8)
        let range = try #require(data.range(of: padded, in: 2880..<data.count), "no \(key) card")
        var bytes = data
        let card = (key.padding(toLength: 8, withPad: " ", startingAt: 0) + "= " + value).padding(toLength: 80, withPad: " ", startingAt: 0)
        bytes.replaceSubrange(range.lowerBound..<range.lowerBound + 80, with: Data(card.utf8))
        return bytes
    }

    @Test("a long non-numeric tile-compression keyword is refused before cfitsio parses it (cfitsio 4.2 aborted)")
    func compressionKeywords() throws {
        let path = directory.appendingPathComponent("tiles.fits").path
        try ExposureFITS.write(
            try Fixtures.exposure(Float.self) { x, y in Float(x + y) }, to: path, compression: FITSCompression(.gzip, tile: Extent2I(8, 8)))
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let long = "'" + String(repeating: "ABCDEFGHIJ", count: 7) + "'"
        for key in ["ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZBITPIX", "ZTILE1", "ZTILE2"] {
            let damaged = directory.appendingPathComponent("bad-\(key).fits")
            try replacingCard(key, with: long, in: original).write(to: damaged)
            let error = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: damaged.path) }
            #expect(error?.kind == .corruptFile && "\(error!)".contains(key) && "\(error!)".contains("bad-\(key).fits"), "\(key)")
            #expect(throws: FITSError.self) { try ExposureFITS.info(of: damaged.path) }
        }
    }

    @Test("HDF5 files FuzzHDF5 found: a chunk index claiming more bytes than the file is refused; ours carry metadata checksums")
    func fuzzFoundHDF5() throws {
        let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions/FuzzHDF5")
        // 14 KB whose image chunk claims 3.7 GB of storage: libhdf5 allocated that much to read it.
        let oversized = regressions.appendingPathComponent("oversized-chunk-77d846a4").path
        let error = #expect(throws: HDF5Error.self) { try ExposureHDF5.read(Float.self, from: oversized) }
        #expect(error?.kind == .corruptFile && "\(error!)".contains("stored bytes in a file of"), "\(error!)")
        // A flipped bit in an unchecksummed (superblock v0) object header: read as libhdf5 reads it.
        _ = try? ExposureHDF5.read(Float.self, from: regressions.appendingPathComponent("flipped-bit-in-unchecksummed-header").path)
        // What we write has superblock version 2 or later: every piece of metadata is checksummed.
        let written = directory.appendingPathComponent("checksummed.h5").path
        try ExposureHDF5.write(try Fixtures.exposure(Float.self) { x, y in Float(x + y) }, to: written)
        let superblock = try Data(contentsOf: URL(fileURLWithPath: written)).prefix(9)
        #expect(superblock.prefix(8) == Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) && superblock[8] >= 2)
    }

    @Test("FITS files FuzzFITS found: a tile past the heap or a corrupt GZIP tile is refused before cfitsio reads it")
    func fuzzFoundFITS() throws {
        let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions/FuzzFITS")
        // 14 KB whose image tile descriptor made cfitsio allocate 3 GB.
        let path = regressions.appendingPathComponent("tile-claims-more-than-heap").path
        let error = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: path) }
        #expect(error?.kind == .corruptFile && "\(error!)".contains("the heap has"), "\(error!)")
        // A corrupt GZIP tile on which cfitsio grew its buffer for ever (41 GB after minutes).
        let gzip = #expect(throws: FITSError.self) {
            try ExposureFITS.read(Float.self, from: regressions.appendingPathComponent("corrupt-gzip-tile").path)
        }
        #expect("\(gzip!)".contains("not a complete gzip stream"), "\(gzip!)")
        // A mangled TFIELDS made cfitsio compute an impossible allocation: an error, not a crash.
        #expect(throws: FITSError.self) {
            try ExposureFITS.read(Float.self, from: regressions.appendingPathComponent("impossible-allocation-in-cfitsio").path)
        }
    }

    @Test("a small file declaring 2^20 × 2^20 pixels is refused before anything is allocated")
    func declaredHugeImages() throws {
        // Uncompressed: 5,760 bytes whose primary HDU declares 4 TiB of pixels (over the pixel
        // limit), or 1.6 GB (under it, but not in the file).
        func headerOnly(_ name: String, side: Int) throws -> String {
            let path = directory.appendingPathComponent(name).path
            let cards = [
                "SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
                "NAXIS1  = \(String(repeating: " ", count: 20 - String(side).count))\(side)",
                "NAXIS2  = \(String(repeating: " ", count: 20 - String(side).count))\(side)", "END",
            ]
            let header = cards.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
            try Data(header.padding(toLength: 5760, withPad: " ", startingAt: 0).utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let huge = try headerOnly("huge.fits", side: 1 << 20)
        let error = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: huge) }
        #expect(error?.kind == .corruptFile && "\(error!)".contains("exceeds"), "\(error!)")
        let large = try headerOnly("large.fits", side: 20_000)
        let truncated = #expect(throws: FITSError.self) { try FITSImage<Float>.read(from: large) }
        #expect(truncated?.kind == .corruptFile && "\(truncated!)".contains("file has 5760 bytes"), "\(truncated!)")
        // Tile-compressed: cfitsio checks the tile table against the declared size.
        let tiled = directory.appendingPathComponent("huge-tiles.fits").path
        try ExposureFITS.write(try Fixtures.exposure(Float.self) { _, _ in 1 }, to: tiled, compression: FITSCompression(.gzip))
        var tiles = try Data(contentsOf: URL(fileURLWithPath: tiled))
        tiles = try replacingCard("ZNAXIS1", with: "1048576", in: tiles)
        tiles = try replacingCard("ZNAXIS2", with: "1048576", in: tiles)
        try tiles.write(to: URL(fileURLWithPath: tiled))
        let tiledError = #expect(throws: FITSError.self) { try ExposureFITS.read(Float.self, from: tiled) }
        #expect(tiledError?.kind == .corruptFile, "\(tiledError!)")
        // HDF5: a chunked dataset declared 2^20 × 2^20 with no chunk written (h5py).
        let h5 = directory.appendingPathComponent("huge.h5").path
        let made = try runPython(
            """
            import h5py, sys
            with h5py.File(sys.argv[1], "w") as f:
                f.create_dataset("image", shape=(1 << 20, 1 << 20), dtype="<f4", chunks=(256, 256))
            """, h5)
        try #require(made.status == 0, "\(made.output)")
        let h5Error = #expect(throws: HDF5Error.self) { try ExposureHDF5.read(Float.self, from: h5) }
        #expect(h5Error?.kind == .corruptFile && "\(h5Error!)".contains("exceeds"))
    }
}

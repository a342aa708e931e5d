import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// A small deterministic generator, so every run tries the same corrupted variants.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
}

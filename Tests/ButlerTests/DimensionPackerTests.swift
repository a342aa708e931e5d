import ButlerTestSupport
import Composites
import Foundation
import SkyMaps
import Testing

@testable import Butler

/// Data ID packing: the observation packer against lsst.pipe.base's (run in the test), arrays
/// against single IDs, the skymap packer's layout and bounds, and packers made from records on
/// every engine.
@Suite("Dimension packers")
struct DimensionPackerTests {
    @Test("visit/exposure × detector packing is lsst.pipe.base's, value for value, error for error")
    func observationAgainstReference() throws {
        let cases: [(String, ObservationDimensionPacker.Observation, Int64, Int64)] = [
            ("HSC", .visit, 200, 21_474_800), ("LATISS", .exposure, 1, 7_050_123_199_999), ("LSSTCam", .exposure, 1000, 7_050_123_199_999),
            ("Cam", .visit, 7, 13),
        ]
        var random = SplitMix64(state: 42)
        var request: [[String: Any]] = []
        var packers: [ObservationDimensionPacker] = []
        var ids: [[(Int64, Int64)]] = []
        for (instrument, observation, detectors, observations) in cases {
            let packer = try ObservationDimensionPacker(
                instrument: instrument, observation: observation, detectorCount: detectors, observationCount: observations)
            var pairs: [(Int64, Int64)] = (0..<2000).map { _ in
                (Int64.random(in: 0..<observations, using: &random), Int64.random(in: 0..<detectors, using: &random))
            }
            // The edges, and values just out of range.
            pairs += [(0, 0), (observations - 1, detectors - 1), (observations, 0), (0, detectors)]
            let packed = pairs.prefix(2000).map { try! packer.pack(observation: $0.0, detector: $0.1) }
            request.append([
                "instrument": instrument, "observation": observation.rawValue, "detector_max": detectors, "observation_max": observations,
                "ids": pairs.map { [$0.0, $0.1] }, "packed": packed,
            ])
            packers.append(packer)
            ids.append(pairs)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("packers-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: request).write(to: file)
        let replies = try JSONSerialization.jsonObject(with: ReferencePython.run("packers.py", [file.path])) as! [[String: Any]]
        #expect(replies.count == cases.count)
        for (index, reply) in replies.enumerated() {
            let packer = packers[index]
            #expect(reply["max_bits"] as? Int == packer.maxBits, "\(packer.instrument) maxBits")
            let theirs = reply["packed"] as! [Any]
            for (pair, answer) in zip(ids[index], theirs) {
                let mine = try? packer.pack(observation: pair.0, detector: pair.1)
                #expect(mine == (answer as? NSNumber)?.int64Value, "\(packer.instrument) \(pair)")
            }
            let unpacked = reply["unpacked"] as! [[NSNumber]]
            for (value, answer) in zip(request[index]["packed"] as! [Int64], unpacked) {
                let dataId = try packer.unpack(value)
                #expect(
                    dataId[packer.observation.rawValue] == .int(answer[0].int64Value) && dataId["detector"] == .int(answer[1].int64Value))
            }
        }
    }

    @Test("arrays pack and unpack as single IDs do; a value out of range is named with its position")
    func arrays() throws {
        let packer = try ObservationDimensionPacker(
            instrument: "HSC", observation: .visit, detectorCount: 200, observationCount: 21_474_800)
        var random = SplitMix64(state: 7)
        let visits = (0..<10_000).map { _ in Int64.random(in: 0..<21_474_800, using: &random) }
        var detectors = (0..<10_000).map { _ in Int64.random(in: 0..<200, using: &random) }
        var packed = [Int64](repeating: 0, count: visits.count)
        try visits.withUnsafeBufferPointer { v in
            try detectors.withUnsafeBufferPointer { d in
                try packed.withUnsafeMutableBufferPointer { try packer.pack(observations: v, detectors: d, into: $0) }
            }
        }
        for index in stride(from: 0, to: visits.count, by: 97) {
            #expect(packed[index] == (try packer.pack(observation: visits[index], detector: detectors[index])))
        }
        var backVisits = [Int64](repeating: 0, count: packed.count), backDetectors = backVisits
        try packed.withUnsafeBufferPointer { p in
            try backVisits.withUnsafeMutableBufferPointer { v in
                try backDetectors.withUnsafeMutableBufferPointer { try packer.unpack(p, observations: v, detectors: $0) }
            }
        }
        #expect(backVisits == visits && backDetectors == detectors)
        detectors[4321] = 200
        do {
            try visits.withUnsafeBufferPointer { v in
                try detectors.withUnsafeBufferPointer { d in
                    try packed.withUnsafeMutableBufferPointer { try packer.pack(observations: v, detectors: d, into: $0) }
                }
            }
            Issue.record("detector 200 packed")
        } catch let error as ButlerError {
            #expect(error.message.contains("element 4321") && error.message.contains("detector ID 200"))
        }
        #expect(throws: ButlerError.self) { try packer.unpack(-1) }
        #expect(throws: ButlerError.self) { try packer.pack(["instrument": "LSSTCam", "visit": 1, "detector": 1]) }
    }

    @Test("tract × patch (× band) packing: lsst.skymap's layout, bounds and band numbering")
    func skyMapPacker() throws {
        let plain = try SkyMapDimensionPacker(skymap: "hsc", tractCount: 18938, patchCount: 81)
        #expect(plain.dimensions == ["skymap", "tract", "patch"])
        #expect(try plain.pack(tract: 9813, patch: 40) == 40 + 81 * 9813)
        #expect(plain.maxBits == (18938 * 81 - 1).bitWidth - (18938 * 81 - 1).leadingZeroBitCount)
        #expect(try plain.unpack(40 + 81 * 9813) == ["skymap": "hsc", "tract": 9813, "patch": 40])
        // The default band numbering: none first, then ugrizy…; its count reserves them all.
        let banded = try SkyMapDimensionPacker(skymap: "hsc", tractCount: 18938, patchCount: 81, bandCount: nil)
        #expect(banded.bandCount == Int64(SkyMapDimensionPacker.supportedBands.count) && banded.bands["i"] == 4)
        let id = try banded.pack(["skymap": "hsc", "tract": 9813, "patch": 40, "band": "i"])
        #expect(id == 40 + 81 * 9813 + 4 * 81 * 18938)
        #expect(try banded.unpack(id) == ["skymap": "hsc", "tract": 9813, "patch": 40, "band": "i"])
        #expect(64 - id.leadingZeroBitCount <= banded.maxBits)
        // Explicit bands with room reserved.
        let custom = try SkyMapDimensionPacker(skymap: "s", tractCount: 5, patchCount: 9, bands: ["r": 0, "g": 1], bandCount: 3)
        #expect(custom.maxBits == 8)
        let green = try custom.pack(tract: 2, patch: 6, band: "g")
        #expect(green == 6 + 9 * 2 + 45)
        for (call, message) in [
            ({ try plain.pack(tract: 18938, patch: 0) }, "tract ID 18938"), ({ try plain.pack(tract: 0, patch: 81) }, "patch ID 81"),
            ({ try custom.pack(tract: 0, patch: 0, band: "z") }, "band 'z'"),
        ] as [(() throws -> Int64, String)] {
            do {
                _ = try call()
                Issue.record("\(message) accepted")
            } catch let error as ButlerError {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
    }

    @Test("packers from records: the instrument's and a registered skymap's bounds", arguments: Backend.available)
    func fromRecords(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        try await butler.insertDimensionRecords(
            "instrument", [["name": "HSC", "detector_max": 200, "visit_max": 21_474_800, "exposure_max": 21_474_800]])
        let packer = try await butler.observationPacker(instrument: "HSC")
        #expect(packer.detectorCount == 200 && packer.observationCount == 21_474_800 && packer.maxBits == 32)
        let skymap = try SkyMap(
            .discrete(tracts: [(150, 2, 0.5), (151, 2, 0.5)], projection: .gnomonic, pixelScale: 1, tractOverlap: 0.05))
        try await butler.registerSkyMap("field", skymap)
        let skyPacker = try await butler.skyMapPacker(skymap: "field")
        let counts = try skymap.maximumPatchCounts
        #expect(skyPacker.tractCount == 2 && skyPacker.patchCount == Int64(counts.x * counts.y))
        await #expect(throws: ButlerError.self) { try await butler.observationPacker(instrument: "Nope") }
    }
}

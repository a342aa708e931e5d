import ButlerTestSupport
import Composites
import Foundation
import Testing

@testable import Butler

/// Dataset references as JSON (issue 15 point 6): they survive a round trip through this
/// Butler, daf_butler reads what it writes and it reads what daf_butler writes, with the same
/// IDs, types, data IDs and runs; bad input is refused naming the line and the field.
@Suite("Serialized dataset references")
struct SerializationTests {
    /// A repository with datasets of a plain, a calibration and a visit-level type.
    static func repository(_ backend: Backend) async throws -> (Butler, [DatasetRef], TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        try await butler.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType(
            "bias", dimensions: ["instrument", "detector"], storageClass: "StructuredDataDict", isCalibration: true)
        try await butler.registerDatasetType("visitSummary", dimensions: ["visit"], storageClass: "StructuredDataDict")
        var refs: [DatasetRef] = []
        for visit in 1...3 {
            for detector in 0..<2 {
                refs.append(
                    try await butler.put(
                        ["v": .int(Int64(visit))] as [String: JSONValue], "metrics",
                        dataId: ["instrument": "HSC", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]))
            }
            refs.append(
                try await butler.put(
                    ["v": 1] as [String: JSONValue], "visitSummary", dataId: ["instrument": "HSC", "visit": .int(Int64(visit))]))
        }
        refs.append(
            try await butler.put(["b": 1] as [String: JSONValue], "bias", dataId: ["instrument": "HSC", "detector": 1], run: "calib/run"))
        return (butler, refs, directory)
    }

    static func same(_ lhs: [DatasetRef], _ rhs: [DatasetRef]) -> Bool {
        lhs.count == rhs.count
            && zip(lhs, rhs).allSatisfy { a, b in
                a.id == b.id && a.datasetType == b.datasetType && a.dataId.required.map(\.value) == b.dataId.required.map(\.value)
                    && a.dataId.dimensions == b.dataId.dimensions && a.run == b.run
            }
    }

    @Test("refs survive a round trip: an array, one object, JSON Lines; expanded data IDs too", arguments: Backend.available)
    func roundTrip(backend: Backend) async throws {
        let (butler, refs, directory) = try await Self.repository(backend)
        defer { withExtendedLifetime(directory) {} }
        #expect(Self.same(try butler.decodeRefs(from: try butler.encodeRefs(refs)), refs))
        let encoder = JSONEncoder()
        #expect(Self.same(try butler.decodeRefs(from: try encoder.encode(refs[0])), [refs[0]]))
        let lines = try refs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        #expect(Self.same(try butler.decodeRefs(from: Data(lines.utf8)), refs))
        // Found by a query, data IDs carry implied values (physical_filter, band, day_obs):
        // written and read back as implied, not required.
        let queried = try await butler.queryDatasets(["metrics"], collections: ["run/a"]).sorted { $0.id.uuidString < $1.id.uuidString }
        let expanded = try await butler.expandDataId(queried[0].dataId.values, dimensions: ["visit", "detector"])
        let decoder = JSONDecoder()
        decoder.userInfo[.dimensionUniverse] = butler.universe
        let coordinate = try decoder.decode(DataCoordinate.self, from: try encoder.encode(expanded))
        #expect(coordinate.dimensions == queried[0].dataId.dimensions && coordinate.values == expanded.values)
        try await butler.close()
    }

    @Test("daf_butler reads our refs and we read its own, with the same IDs", arguments: Backend.available)
    func dafButlerInterop(backend: Backend) async throws {
        let (butler, refs, directory) = try await Self.repository(backend)
        defer { withExtendedLifetime(directory) {} }
        let ours = directory.url.appendingPathComponent("refs.json")
        try butler.encodeRefs(refs).write(to: ours)
        let specs: [[String: Any]] = refs.map { ref in
            [
                "datasetType": ref.datasetType.name, "storageClass": ref.datasetType.storageClassName,
                "dimensions": ref.datasetType.dimensions.required, "isCalibration": ref.datasetType.isCalibration,
                "dataId": Dictionary(uniqueKeysWithValues: ref.dataId.required.map { ($0.name, $0.value.jsonObject) }), "run": ref.run,
            ]
        }
        let specFile = directory.url.appendingPathComponent("specs.json")
        try JSONSerialization.data(withJSONObject: specs).write(to: specFile)
        let output = try ReferencePython.run("dataset_refs.py", [ours.path, specFile.path])
        let answer = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(answer["ids"] as? [String] == refs.map { $0.id.uuidString.lowercased() })
        // daf_butler's to_json() of what it read comes back as the same refs here.
        let read = try JSONSerialization.data(withJSONObject: try #require(answer["read"]))
        #expect(Self.same(try butler.decodeRefs(from: read), refs))
        // Refs daf_butler made itself (IDs by data ID, type and run) read here with the IDs
        // this Butler makes for the same inputs.
        let made = try butler.decodeRefs(from: try JSONSerialization.data(withJSONObject: try #require(answer["made"])))
        #expect(made.count == refs.count)
        for (theirs, ref) in zip(made, refs) {
            let expected = DatasetIdFactory.makeId(
                datasetType: ref.datasetType.name, dataId: ref.dataId, run: ref.run, mode: .dataIdTypeRun)
            #expect(theirs.id == expected && theirs.datasetType == ref.datasetType && theirs.dataId == ref.dataId, "\(theirs)")
        }
        try await butler.close()
    }

    @Test("bad references are refused naming the line and the field; decoding needs a universe")
    func badInput() async throws {
        let (butler, refs, directory) = try await Self.repository(.sqlite)
        defer { withExtendedLifetime(directory) {} }
        let good = String(decoding: try JSONEncoder().encode(refs[0]), as: UTF8.self)
        let badId = good.replacingOccurrences(of: refs[0].id.uuidString.lowercased(), with: "not-a-uuid")
        let error = #expect(throws: ButlerError.self) { try butler.decodeRefs(from: Data((good + "\n" + badId + "\n").utf8)) }
        #expect(
            error?.code == .invalidParameter && "\(error!)".contains("line 2") && "\(error!)".contains("not-a-uuid"),
            "\(String(describing: error))")
        let unknown = good.replacingOccurrences(of: "\"detector\"", with: "\"ccd\"")
        let unknownError = #expect(throws: ButlerError.self) { try butler.decodeRefs(from: Data(unknown.utf8)) }
        #expect("\(unknownError!)".contains("ccd"), "\(String(describing: unknownError))")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DatasetRef.self, from: Data(good.utf8)) }
        try await butler.close()
    }
}

extension DataIdValue {
    var jsonObject: Any {
        switch self {
        case .int(let value): value
        case .string(let value): value
        }
    }
}

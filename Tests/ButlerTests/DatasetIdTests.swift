import Butler
import Foundation
import Testing

@Suite("Dataset IDs")
struct DatasetIdTests {
    let universe = try! DimensionUniverse.defaultUniverse()

    func coordinate(_ dataId: DataId) throws -> DataCoordinate {
        try universe.standardize(dataId, for: universe.group(dataId.keys))
    }

    @Test("uuid5 IDs match daf_butler 30.2026.4300 for calexp")
    func calexpVectors() throws {
        let dataId = try coordinate(["instrument": "HSC", "detector": 16, "visit": 903334])
        let run = "HSC/runs/RC2/w_2026_01"
        #expect(
            DatasetIdFactory.makeId(datasetType: "calexp", dataId: dataId, run: run, mode: .dataIdType)
                == UUID(uuidString: "6998e9cb-ae28-57c2-a0b8-d32b81c72b0e"))
        #expect(
            DatasetIdFactory.makeId(datasetType: "calexp", dataId: dataId, run: run, mode: .dataIdTypeRun)
                == UUID(uuidString: "3e8dac0c-40f1-52cd-b7a0-b37ba3c4b866"))
    }

    @Test("uuid5 IDs match daf_butler 30.2026.4300 for raw")
    func rawVectors() throws {
        let dataId = try coordinate(["instrument": "LATISS", "detector": 0, "exposure": 2023051100123])
        let run = "LATISS/raw/all"
        #expect(
            DatasetIdFactory.makeId(datasetType: "raw", dataId: dataId, run: run, mode: .dataIdType)
                == UUID(uuidString: "babb215d-cef2-583b-824e-d220ebf441be"))
        #expect(
            DatasetIdFactory.makeId(datasetType: "raw", dataId: dataId, run: run, mode: .dataIdTypeRun)
                == UUID(uuidString: "4013da6d-1840-5c15-9a67-c9c288fb9d95"))
    }

    @Test("uuid7 IDs carry version 7, the RFC variant, and a millisecond timestamp")
    func uuid7Layout() {
        let now = Date(timeIntervalSince1970: 1_790_000_000.123)
        let id = DatasetIdFactory.uuid7(now: now)
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 2)
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == 1_790_000_000_123)
        #expect(DatasetIdFactory.uuid7() != DatasetIdFactory.uuid7())
    }
}

import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

@Suite("butler certify-calibrations and friends")
struct CalibrationCLITests {
    @Test("certify-calibrations, a refused overlap named, associations, decertify-calibrations, a temporal join")
    func certifyFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: .sqlite)
        let api = try await Butler(repository: directory.url, run: "calib/2023")
        try await TestRepository.insertInstrument(api)
        try await api.insertDimensionRecords("group", [["instrument": "HSC", "name": "g"]])
        try await api.insertDimensionRecords(
            "exposure",
            [
                [
                    "instrument": "HSC", "id": 1, "obs_id": "e1", "physical_filter": "HSC-I", "day_obs": 20131102, "group": "g",
                    "timespan": ["begin": "2023-06-01T10:00:00", "end": "2023-06-01T10:00:30"],
                ]
            ])
        try await api.registerDatasetType("bias", dimensions: ["detector"], storageClass: "StructuredDataDict", isCalibration: true)
        for detector in [0, 1] as [Int64] {
            try await api.put(JSONValue.object(["level": 1]), "bias", dataId: ["instrument": "HSC", "detector": .int(detector)])
        }
        try await api.close()
        let repo = directory.url.path

        let certified = try butler(
            "certify-calibrations", repo, "calib/2023", "calib", "bias", "--begin-date", "2023-01-01T00:00:00", "--end-date", "2024-02-01")
        #expect(certified.status == 0, "\(certified.stderr)")
        #expect(certified.stdout.contains("Certified 2 bias dataset(s) into calib"))
        let again = try butler("certify-calibrations", repo, "calib/2023", "calib", "bias", "--begin-date", "2023-06-01")
        #expect(again.status == 1 && again.stderr.contains("2 validity range conflicts certifying into 'calib'"), "\(again.stderr)")
        let badDate = try butler("certify-calibrations", repo, "calib/2023", "calib", "bias", "--begin-date", "yesterday")
        #expect(badDate.status != 0 && badDate.stderr.contains("yesterday"))
        let listed = try butler("query-dataset-associations", repo, "bias", "--collections", "calib", "--json")
        #expect(
            try json(listed.stdout).compactMap { $0["end"] as? String } == [
                "2024-02-01T00:00:00.000000000", "2024-02-01T00:00:00.000000000",
            ])
        let cut = try butler(
            "decertify-calibrations", repo, "calib", "bias", "--begin-date", "2023-06-01", "--end-date", "2023-07-01", "--data-id",
            "instrument=HSC,detector=1")
        #expect(cut.status == 0 && cut.stdout.contains("Decertified 1 validity range(s)"), "\(cut.stderr)")
        let collections = try butler("query-collections", repo, "--collection-type", "CALIBRATION", "--json")
        #expect(try json(collections.stdout).map { "\($0["name"]!) \($0["type"]!)" } == ["calib CALIBRATION"])
        // Exposure 1 falls in detector 1's hole: the join finds only detector 0's bias.
        let joined = try butler(
            "query-datasets", repo, "bias", "--collections", "calib", "--where", "exposure = 1", "--find-first", "--json")
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try json(joined.stdout).compactMap { ($0["dataId"] as? [String: Any])?["detector"] as? Int } == [0])
        let noneFound = try butler("query-datasets", repo, "bias", "--collections", "calib", "--where", "exposure = 1 AND detector = 1")
        #expect(
            noneFound.stdout.contains(
                "No results.\nWhy:\n  - bias: each of the 2 terms matches something alone, but not all of them together"),
            "\(noneFound.stdout)")
        let noneJSON = try butler("query-datasets", repo, "bias", "--collections", "calib", "--where", "detector = 7", "--json")
        #expect(
            noneJSON.stderr.contains("{\"noResults\":{\"reasons\":[\"bias: `detector = 7` alone matches nothing\""), "\(noneJSON.stderr)")
        let paired = try butler("find-calibrations", repo, "bias", "exposure", "--collections", "calib", "--json")
        #expect(try json(paired.stdout).map { "\($0["exposure"]!)/\($0["detector"]!)" } == ["1/0"], "\(paired.stderr)")
        let fetched = try butler(
            "get", repo, "bias", "--collections", "calib", "--data-id", "instrument=HSC,detector=0,exposure=1")
        #expect(fetched.status == 0 && fetched.stdout.contains("\"level\""), "\(fetched.stderr)")

        // export-calibs: the CALIBRATION collection, its certified datasets and their run;
        // imported elsewhere, the same validity ranges answer the same look-up.
        let calibs = directory.url.appendingPathComponent("calibs").path
        let exported = try butler("export-calibs", repo, calibs)
        #expect(
            exported.status == 0 && exported.stdout.contains("Exported 2 calibration(s) in 1 CALIBRATION collection(s)"),
            "\(exported.stdout) \(exported.stderr)")
        let other = directory.url.appendingPathComponent("other").path
        #expect(try butler("create", other).status == 0)
        let imported = try butler("import", other, calibs)
        #expect(imported.status == 0, "\(imported.stderr)")
        let ranges = try butler("query-dataset-associations", other, "bias", "--collections", "calib", "--json")
        let here = try json(butler("query-dataset-associations", repo, "bias", "--collections", "calib", "--json").stdout)
        let there = try json(ranges.stdout)
        #expect(
            there.count == here.count
                && Set(there.compactMap { $0["begin"] as? String }) == Set(here.compactMap { $0["begin"] as? String }), "\(ranges.stdout)")
        let none = try butler("export-calibs", repo, calibs + "2", "nothing*")
        #expect(none.status == 1 && none.stderr.contains("no CALIBRATION collection"), "\(none.stderr)")
    }
}

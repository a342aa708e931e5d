import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

@Suite("butler register-dataset-type --field and index-fields")
struct DatasetFieldCLITests {
    @Test("fields declared, added later, indexed, queried and shown from the command line")
    func fieldsFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: .sqlite)
        let api = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(api)
        try await api.close()
        let repo = directory.url.path
        let registered = try butler(
            "register-dataset-type", repo, "isr_metrics", "StructuredDataDict", "visit", "detector", "--field", "background:float")
        #expect(registered.status == 0 && registered.stdout.contains("with fields background:float"), "\(registered.stderr)")
        let bad = try butler("register-dataset-type", repo, "other", "StructuredDataDict", "visit", "--field", "seeing:double")
        #expect(bad.status != 0 && bad.stderr.contains("NAME:TYPE[=SOURCE]"))
        for visit in 1...3 {
            let file = directory.url.appendingPathComponent("m\(visit).json")
            try Data("{\"background\": \(visit * 700), \"stats\": {\"n\": \(visit)}}".utf8).write(to: file)
            let put = try butler(
                "put", repo, "isr_metrics", file.path, "--data-id", "instrument=HSC,visit=\(visit),detector=0", "--run", "run/a")
            #expect(put.status == 0, "\(put.stderr)")
        }
        // A second field, added with datasets in place, then filled.
        let widened = try butler(
            "register-dataset-type", repo, "isr_metrics", "StructuredDataDict", "visit", "detector", "--field", "background:float",
            "--field", "n:int=stats.n")
        #expect(widened.status == 0, "\(widened.stderr)")
        let indexed = try butler("index-fields", repo, "isr_metrics", "--collections", "run/a")
        #expect(indexed.stdout.contains("Indexed the fields of 3 isr_metrics dataset(s)"), "\(indexed.stderr)")
        let found = try butler(
            "query-datasets", repo, "isr_metrics", "--collections", "run/a", "--where",
            "isr_metrics.background > 1000 AND isr_metrics.n < 3",
            "--json")
        let rows = try json(found.stdout)
        #expect(rows.count == 1, "\(found.stderr)")
        #expect((rows.first?["fields"] as? [String: Any])?["background"] as? Double == 1400)
        let types = try butler("query-dataset-types", repo, "--json")
        #expect(try json(types.stdout).first?["fields"] as? [String] == ["background:float", "n:int=stats.n"])
    }
}

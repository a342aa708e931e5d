import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation

/// The main job: a small night of a small camera on a fresh embedded repository.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an embedded repository for a small instrument and exercise it, printing what it did.")

    @Argument(help: "Where to create the demo repository (must not exist yet).")
    var repo: String

    @Option(name: .long, help: "Number of visits.") var visits = 6
    @Option(name: .long, help: "Number of detectors.") var detectors = 4

    func run() async throws {
        let root = URL(fileURLWithPath: repo)
        let steps = StepTable()
        func timed<T>(_ step: String, _ body: () async throws -> (T, String)) async throws -> T {
            try await steps.time(step, body)
        }

        var config = RepositoryConfig.defaultConfig()
        config.datastore.formatters["qaPlot"] = .init(formatter: "BytesFormatter", extension: ".png")
        config.dimensions.aliases = ["ccdnum": "detector"]
        config.datastore.disassembled = ["calexp", "deepCoadd"]
        try await timed("create") {
            try await Butler.createRepository(at: root, config: config)
            return ((), "embedded repository at \(root.path) (SQLite registry, POSIX datastore)")
        }
        let butler = try await Butler(repository: root, run: "DemoCam/runs/night1")
        do {
            try await exercise(butler, root: root, steps: steps)
            let night = DemoNight(butler: butler, root: root, visits: visits, detectors: detectors)
            try await night.run { step, body in try await steps.time(step) { ((), try await body()) } }
            print("")
            steps.rows.print(json: false)
            try await butler.close()
        } catch {
            try? await butler.close()
            throw error
        }
    }

    private func exercise(_ butler: Butler, root: URL, steps: StepTable) async throws {
        func timed<T>(_ step: String, _ body: () async throws -> (T, String)) async throws -> T {
            try await steps.time(step, body)
        }

        try await timed("records") {
            try await butler.insertDimensionRecords(
                "instrument", [["name": "DemoCam", "detector_max": .int(Int64(detectors)), "visit_max": 100_000]])
            try await butler.insertDimensionRecords(
                "physical_filter",
                [
                    ["instrument": "DemoCam", "name": "Demo-g", "band": "g"],
                    ["instrument": "DemoCam", "name": "Demo-r", "band": "r"],
                ])
            try await butler.insertDimensionRecords(
                "day_obs",
                [
                    [
                        "instrument": "DemoCam", "id": 20261122,
                        "timespan": ["begin": "2026-11-22T12:00:00", "end": "2026-11-23T12:00:00"],
                    ]
                ])
            try await butler.insertDimensionRecords(
                "detector",
                (0..<detectors).map {
                    ["instrument": "DemoCam", "id": .int(Int64($0)), "full_name": .string("S\($0)"), "purpose": "SCIENCE"]
                })
            try await butler.insertDimensionRecords(
                "visit",
                (1...visits).map { visit in
                    [
                        "instrument": "DemoCam", "id": .int(Int64(visit)), "name": .string("night1-\(visit)"),
                        "physical_filter": visit % 2 == 0 ? "Demo-r" : "Demo-g", "day_obs": 20261122,
                        "exposure_time": 30.0, "target_name": "demo field",
                    ]
                })
            return ((), "1 instrument, 2 filters (bands g, r), \(detectors) detectors, \(visits) visits")
        }

        try await timed("dataset types") {
            try await butler.registerDatasetType("isr_metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
            try await butler.registerDatasetType("visit_summary", dimensions: ["visit"], storageClass: "StructuredDataList")
            try await butler.registerDatasetType("qaPlot", dimensions: ["visit"], storageClass: "Bytes")
            return ((), "isr_metrics {visit, detector}, visit_summary {visit}, qaPlot {visit} (PNG)")
        }

        let count = visits * detectors
        var backgrounds: [Int: [Double]] = [:]
        try await timed("put metrics") {
            for visit in 1...visits {
                for detector in 0..<detectors {
                    let background = 1000.0 + 37.0 * Double(visit) + 11.0 * Double(detector)
                    backgrounds[visit, default: []].append(background)
                    try await butler.put(
                        [
                            "background": JSONValue.double(background), "noise": .double(background.squareRoot()),
                            "nSaturated": .int(Int64(visit * detector)),
                        ],
                        "isr_metrics", dataId: ["instrument": "DemoCam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))])
                }
            }
            return ((), "\(count) JSON datasets into DemoCam/runs/night1")
        }

        let plot = try await timed("put QA plot") {
            var image = GrayscalePNG(width: 120, height: 60)
            let values = (1...visits).map { backgrounds[$0]!.reduce(0, +) / Double(detectors) }
            let low = values.min()! - 10, high = values.max()! + 10
            for (index, value) in values.enumerated() {
                let x0 = 5 + index * (110 / visits)
                let top = 55 - Int((value - low) / (high - low) * 50)
                for x in x0..<x0 + max(2, 110 / visits - 3) { for y in top..<56 { image.set(x, y, 40) } }
            }
            let png = try image.encoded()
            let ref = try await butler.put(png, "qaPlot", dataId: ["instrument": "DemoCam", "visit": 1])
            return ((ref, png), "a \(png.count)-byte PNG of mean background per visit")
        }

        try await timed("reprocess") {
            for detector in 0..<detectors {
                try await butler.put(
                    ["background": JSONValue.double(999.0), "noise": 31.6, "nSaturated": 0], "isr_metrics",
                    dataId: ["instrument": "DemoCam", "visit": 2, "ccdnum": .int(Int64(detector))], run: "DemoCam/runs/night1-fix")
            }
            try await butler.setCollectionChain("DemoCam/defaults", children: ["DemoCam/runs/night1-fix", "DemoCam/runs/night1"])
            return ((), "visit 2 redone in DemoCam/runs/night1-fix; chain DemoCam/defaults = [night1-fix, night1]")
        }

        let checks = try await timed("get") {
            let viaChain = try await butler.get(
                "isr_metrics", dataId: ["instrument": "DemoCam", "visit": 2, "detector": 0],
                collections: ["DemoCam/defaults"], as: [String: Double].self)
            let original = try await butler.get(
                "isr_metrics", dataId: ["instrument": "DemoCam", "visit": 2, "detector": 0],
                collections: ["DemoCam/runs/night1"], as: [String: Double].self)
            let png = try await butler.get(plot.0, as: Data.self)
            guard png == plot.1 else { throw CommandFailure("the QA plot did not come back byte for byte") }
            return ((viaChain["background"]!, original["background"]!), "find-first through the chain, and the PNG byte for byte")
        }

        let (inR, dataIds) = try await timed("query") {
            let inR = try await butler.queryDatasets(
                ["isr_metrics"], collections: ["DemoCam/defaults"], where: "band = 'r'", findFirst: true)
            let dataIds = try await butler.queryDataIds(["visit"], where: "visit.exposure_time > 10 AND band = 'g'")
            return ((inR.count, dataIds.count), "band = 'r' (find-first) and g-band visits")
        }

        print("Swift Butler demo")
        print("")
        print("visit 2, detector 0 background: \(checks.0) through DemoCam/defaults (reprocessed), \(checks.1) in night1")
        print("isr_metrics in band r through the chain: \(inR) datasets; g-band visits: \(dataIds)")
        print("repository: \(root.path)")
        print("try: butler query-datasets \(repo) isr_metrics --collections DemoCam/defaults --find-first --where \"visit = 2\"")
        print("     butler get \(repo) calexp --collections DemoCam/night --data-id instrument=DemoCam,visit=1,detector=0 --component wcs")
        print("     butler query-datasets \(repo) calexp --collections DemoCam/night --where \"calexp.seeing < 0.75\"")
        print("     butler query-dataset-associations \(repo) bias --collections DemoCam/calib")
        print("     butler query-datasets \(repo) bias flat --collections DemoCam/calib --where \"exposure = 5\" --find-first")
        print(
            "     butler query-data-ids \(repo) visit detector --where \"visit_detector_region.region OVERLAPS CIRCLE(150.0, 2.02, 0.005)\""
        )
        print("     butler query-data-ids \(repo) htm9 --where \"htm9 OVERLAPS CIRCLE(150.0, 2.02, 0.05)\"")
    }

    /// The demo's table of steps: what each did and how long it took.
    final class StepTable {
        private(set) var rows = Rows(columns: ["step", "what", "time"])

        /// Runs a step and records its description and duration.
        func time<T>(_ step: String, _ body: () async throws -> (T, String)) async throws -> T {
            let start = ContinuousClock.now
            let (result, what) = try await body()
            rows.append([.string(step), .string(what), .string(Demo.format(ContinuousClock.now - start))])
            return result
        }
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds >= 1 ? String(format: "%.2f s", seconds) : String(format: "%.1f ms", seconds * 1000)
    }
}

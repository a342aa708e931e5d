import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps

/// Which header keywords give a raw's dimensions and exposure metadata.
struct RawHeaderMapping: Decodable {
    var instrument = "INSTRUME"
    var exposure = "EXPID"
    var detector = "DETECTOR"
    var physicalFilter = "FILTER"
    var date = "DATE-OBS"
    var exposureTime = "EXPTIME"
    /// The time scale of `date` (FITS: UTC unless TIMESYS says otherwise).
    var timeSystem = "TIMESYS"
    var obsId = "OBSID"
    var observationType = "IMGTYPE"
    /// Physical filter → band; unmapped filters use their last character, lower-cased.
    var bands: [String: String] = [:]

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RawHeaderMapping()
        instrument = try container.decodeIfPresent(String.self, forKey: .instrument) ?? defaults.instrument
        exposure = try container.decodeIfPresent(String.self, forKey: .exposure) ?? defaults.exposure
        detector = try container.decodeIfPresent(String.self, forKey: .detector) ?? defaults.detector
        physicalFilter = try container.decodeIfPresent(String.self, forKey: .physicalFilter) ?? defaults.physicalFilter
        date = try container.decodeIfPresent(String.self, forKey: .date) ?? defaults.date
        exposureTime = try container.decodeIfPresent(String.self, forKey: .exposureTime) ?? defaults.exposureTime
        timeSystem = try container.decodeIfPresent(String.self, forKey: .timeSystem) ?? defaults.timeSystem
        obsId = try container.decodeIfPresent(String.self, forKey: .obsId) ?? defaults.obsId
        observationType = try container.decodeIfPresent(String.self, forKey: .observationType) ?? defaults.observationType
        bands = try container.decodeIfPresent([String: String].self, forKey: .bands) ?? [:]
    }

    /// The YAML keys are daf_butler's dimension and field names.
    enum CodingKeys: String, CodingKey {
        case instrument, exposure, detector, date, bands
        case physicalFilter = "physical_filter"
        case exposureTime = "exposure_time"
        case timeSystem = "time_system"
        case obsId = "obs_id"
        case observationType = "observation_type"
    }
}

struct IngestRaws: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-raws",
        abstract: "Ingest raw FITS files: dimension records and `raw` datasets from their headers.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Raw FITS files.") var files: [String]
    @Option(name: .long, help: "RUN collection (default: <instrument>/raw/all).") var run: String?
    @Option(name: .long, help: "copy, move, symlink, hardlink or direct.") var transfer = "copy"
    @OptionGroup var existing: ExistingDatasetOptions
    @Option(
        name: .customLong("header-map"),
        help:
            "YAML mapping of instrument, exposure, detector, physical_filter, date, exposure_time, time_system, obs_id and observation_type to header keywords, and bands."
    )
    var headerMap: String?

    func run() async throws {
        guard let mode = TransferMode(rawValue: transfer) else { throw ValidationError("unknown transfer '\(transfer)'") }
        var mapping = RawHeaderMapping()
        if let headerMap {
            mapping = try YAMLSupport.decode(RawHeaderMapping.self, from: String(contentsOfFile: headerMap, encoding: .utf8))
        }
        let (count, runs) = try await withButler(repo) { butler in
            try await Self.ingest(
                files, into: butler, mapping: mapping, run: run, transfer: mode, ifExists: try existing.policy(),
                extendRun: existing.extendRun)
        }
        print("Ingested \(count) raw file(s) into \(runs.joined(separator: ", "))")
    }

    /// Reads each file's header, inserts the dimension records it implies (existing ones are
    /// kept) and ingests the files as `raw` datasets. Returns the count and the runs used.
    static func ingest(
        _ files: [String], into butler: Butler, mapping: RawHeaderMapping, run: String?, transfer: TransferMode,
        ifExists: ExistingDatasetPolicy = .fail, extendRun: Bool = true
    ) async throws -> (Int, [String]) {
        var byRun: [String: [FileToIngest]] = [:]
        var records: [String: [String: [String: JSONValue]]] = [:]
        func add(_ element: String, _ key: String, _ record: [String: JSONValue]) { records[element, default: [:]][key] = record }
        for path in files {
            let header = try FITSHeaders.read(from: path)
            try FITSHeaders.verifyComplete(path)
            func value(_ keyword: String, _ what: String) throws -> JSONValue {
                guard let found = header[keyword], !found.isNull else {
                    throw CommandFailure("\(path): no \(keyword) keyword for \(what) (set it with --header-map)")
                }
                return found
            }
            let instrument = try value(mapping.instrument, "the instrument").description
            guard let exposure = try value(mapping.exposure, "the exposure ID").intValue else {
                throw CommandFailure("\(path): \(mapping.exposure) is not an integer exposure ID")
            }
            guard let detector = try value(mapping.detector, "the detector").intValue else {
                throw CommandFailure("\(path): \(mapping.detector) is not an integer detector ID")
            }
            let filter = try value(mapping.physicalFilter, "the physical filter").description
            let band = mapping.bands[filter] ?? String(filter.last ?? "x").lowercased()
            let date = try value(mapping.date, "the observation date").description
            // The shutter opens at DATE-OBS, in the scale TIMESYS names (UTC when absent).
            let scale = header[mapping.timeSystem]?.stringValue.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "utc"
            guard let timeScale = TimeScale(rawValue: scale) else {
                throw CommandFailure("\(path): time scale '\(scale)' in \(mapping.timeSystem) is not one of tai, utc, tt")
            }
            let begin: AstroTime
            do { begin = try AstroTime(value: date, format: date.contains("T") ? .isot : .iso, scale: timeScale) } catch {
                throw CommandFailure("\(path): cannot read date '\(date)' from \(mapping.date): \(error)")
            }
            guard let dayObs = dayObs(begin) else { throw CommandFailure("\(path): date '\(date)' is before 1970") }
            add("instrument", instrument, ["name": .string(instrument)])
            add(
                "physical_filter", "\(instrument)/\(filter)",
                ["instrument": .string(instrument), "name": .string(filter), "band": .string(band)])
            add("day_obs", "\(instrument)/\(dayObs)", ["instrument": .string(instrument), "id": .int(dayObs)])
            add("group", "\(instrument)/\(exposure)", ["instrument": .string(instrument), "name": .string(String(exposure))])
            add("detector", "\(instrument)/\(detector)", ["instrument": .string(instrument), "id": .int(detector)])
            let observationType = header[mapping.observationType]?.stringValue?.trimmingCharacters(in: .whitespaces).lowercased()
            var exposureRecord: [String: JSONValue] = [
                "instrument": .string(instrument), "id": .int(exposure), "physical_filter": .string(filter),
                "day_obs": .int(dayObs), "group": .string(String(exposure)),
                "observation_type": .string(observationType.flatMap { $0.isEmpty ? nil : $0 } ?? "science"),
                // The observation's own identifier when the header has one.
                "obs_id": .string(header[mapping.obsId]?.stringValue ?? "\(instrument)_\(exposure)"),
            ]
            // [DATE-OBS, DATE-OBS + EXPTIME), or the instant DATE-OBS without an exposure time.
            let seconds = header[mapping.exposureTime]?.doubleValue
            if let seconds { exposureRecord["exposure_time"] = .double(seconds) }
            let end = begin.taiNanoseconds + Int64(((seconds ?? 0) * 1e9).rounded())
            exposureRecord["timespan"] = ["begin": .int(begin.taiNanoseconds), "end": .int(max(end, begin.taiNanoseconds + 1))]
            add("exposure", "\(instrument)/\(exposure)", exposureRecord)
            // Where the detector saw: its pixel box through the header's WCS.
            let xy0 = FITSWcs.xy0(from: header)
            if let wcs = FITSWcs.wcs(from: header, xy0: xy0), let width = header["NAXIS1"]?.intValue,
                let height = header["NAXIS2"]?.intValue
            {
                let region: Region
                do { region = try wcs.skyRegion(covering: Box2I(min: xy0, extent: Extent2I(Int(width), Int(height)))) } catch {
                    throw CommandFailure("\(path): its WCS gives no sky region: \(error)")
                }
                add(
                    "exposure_detector_region", "\(instrument)/\(exposure)/\(detector)",
                    [
                        "instrument": .string(instrument), "exposure": .int(exposure), "detector": .int(detector),
                        "region": .string(region.base64),
                    ])
            }
            byRun[run ?? "\(instrument)/raw/all", default: []].append(
                FileToIngest(
                    url: URL(fileURLWithPath: path),
                    dataId: ["instrument": .string(instrument), "exposure": .int(exposure), "detector": .int(detector)]))
        }
        for element in ["instrument", "physical_filter", "day_obs", "group", "detector", "exposure", "exposure_detector_region"] {
            if let list = records[element] {
                try await butler.insertDimensionRecords(element, list.keys.sorted().map { list[$0]! }, mode: .skipExisting)
            }
        }
        try await butler.registerDatasetType("raw", dimensions: ["exposure", "detector"], storageClass: "ExposureF")
        var total = 0
        for (run, files) in byRun.sorted(by: { $0.key < $1.key }) {
            total += try await butler.ingest(
                files, datasetType: "raw", run: run, transfer: transfer, idGenerationMode: .dataIdTypeRun,
                ifExists: ifExists, extendRun: extendRun
            )
            .count
        }
        return (total, byRun.keys.sorted())
    }

    /// The observing day (YYYYMMDD) of a time: its UTC date 12 hours earlier, so that a
    /// night's exposures share one day_obs.
    static func dayObs(_ time: AstroTime) -> Int64? {
        let noonBefore = AstroTime(taiNanoseconds: time.taiNanoseconds - 12 * 3_600_000_000_000)
        guard noonBefore >= AstroTime.epoch else { return nil }
        let date = noonBefore.isot(scale: .utc, fractionDigits: 0).prefix(10).replacingOccurrences(of: "-", with: "")
        return Int64(date)
    }
}

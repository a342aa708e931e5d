import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation

/// The demo's simulated night: raw FITS files of a star field → ingest-raws → calibrated
/// exposures stored disassembled with a shared per-visit visitInfo → a refined WCS in a later
/// run → cutouts read through a chain.
struct DemoNight {
    let butler: Butler
    let root: URL
    let visits: Int
    let detectors: Int
    let size = 256
    let instrument = "DemoCam"

    /// Sky position of a detector's centre in a visit: a 2×2 mosaic of 0.2″ pixels, dithered.
    func wcs(visit: Int, detector: Int) -> Wcs {
        let scale = 0.2 / 3600
        let ra = 150.0 + Double(detector % 2) * Double(size) * scale + Double(visit) * 5 * scale
        let dec = 2.0 + Double(detector / 2) * Double(size) * scale
        return Wcs(
            crpix: Point2D(Double(size) / 2, Double(size) / 2), crval: SpherePoint(ra: ra, dec: dec),
            cd: [[-scale, 0], [0, scale]])
    }

    /// Stars: fixed sky positions, drawn on every image that sees them.
    static let stars: [(ra: Double, dec: Double, flux: Double)] = {
        var state: UInt64 = 2026
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        return (0..<120).map { _ in (150.0 - 0.01 + next() * 0.045, 2.0 - 0.01 + next() * 0.045, 2000 + next() * 40000) }
    }()

    /// The night's seeing changes from visit to visit: the Gaussian PSF's σ in pixels.
    func psfSigma(visit: Int) -> Double { 1.3 + 0.2 * Double(visit % 4) }

    /// One raw image: sky, stars convolved with the visit's Gaussian PSF, noise.
    func rawImage(visit: Int, detector: Int) -> Exposure<Float> {
        let wcs = wcs(visit: visit, detector: detector)
        let sigma = psfSigma(visit: visit)
        var image = Image<Float>(width: size, height: size, fill: 0)
        var state = UInt64(visit * 1000 + detector + 1)
        for index in image.pixels.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let uniform = Double(state >> 11) / Double(1 << 53)
            image.pixels[index] = Float(1000 + (uniform - 0.5) * 2 * 31.6 * 1.732)
        }
        for star in Self.stars {
            let centre = wcs.skyToPixel(SpherePoint(ra: star.ra, dec: star.dec))
            let x0 = max(0, Int(centre.x.rounded(.down)) - 8), x1 = min(size - 1, Int(centre.x.rounded(.down)) + 8)
            let y0 = max(0, Int(centre.y.rounded(.down)) - 8), y1 = min(size - 1, Int(centre.y.rounded(.down)) + 8)
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = Double(x) - centre.x, dy = Double(y) - centre.y
                    image[x, y] += Float(star.flux / (2 * .pi * sigma * sigma) * exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
                }
            }
        }
        // What the camera adds: each pixel's response (the flat) and an electronic offset
        // (the bias), which calibration divides and subtracts again.
        let bias = biasImage(detector: detector, generation: visit <= visits / 2 ? 0 : 1)
        let flat = flatImage(detector: detector)
        for index in image.pixels.indices { image.pixels[index] = image.pixels[index] * flat.pixels[index] + bias.pixels[index] }
        var metadata = Metadata()
        metadata.set("INSTRUME", .string(instrument))
        metadata.set("EXPID", .int(Int64(visit)))
        metadata.set("DETECTOR", .int(Int64(detector)))
        metadata.set("FILTER", visit % 2 == 0 ? "Demo-r" : "Demo-g")
        metadata.set("DATE-OBS", .string(dateObs(visit: visit)))
        metadata.set("EXPTIME", 30.0)
        let masked = try! MaskedImage(image: image, mask: Mask(bbox: image.bbox), variance: Image(bbox: image.bbox, fill: 1000))
        return Exposure(maskedImage: masked, wcs: wcs, metadata: metadata)
    }

    /// A detector's bias: an offset with a column pattern; the electronics changed half-way
    /// through the night (generation 1), which is why two biases are certified.
    func biasImage(detector: Int, generation: Int) -> Image<Float> {
        var bias = Image<Float>(width: size, height: size, fill: 0)
        for y in 0..<size {
            for x in 0..<size { bias[x, y] = Float(200 + 40 * generation + detector) + Float(x % 8) }
        }
        return bias
    }

    /// A detector's flat: a response falling off by 10% towards the corners.
    func flatImage(detector: Int) -> Image<Float> {
        var flat = Image<Float>(width: size, height: size, fill: 0)
        let half = Double(size) / 2
        for y in 0..<size {
            for x in 0..<size {
                let r2 = ((Double(x) - half) * (Double(x) - half) + (Double(y) - half) * (Double(y) - half)) / (2 * half * half)
                flat[x, y] = Float(1 - 0.1 * r2 + 0.002 * Double(detector))
            }
        }
        return flat
    }

    /// The night's times as TAI: DATE-OBS of visit `visit` (the header's own scale, UTC).
    func dateObs(visit: Int) -> String { String(format: "2026-11-23T0%d:%02d:00.0", 1 + visit / 6, visit * 7 % 60) }

    /// Bias subtraction and flat division with the calibrations valid at the exposure's time,
    /// then background subtraction, a variance plane, saturation flags, a PSF and a calibration.
    func calibrate(_ raw: Exposure<Float>, bias: Image<Float>, flat: Image<Float>, psfSigma: Double) throws -> Exposure<Float> {
        var raw = raw
        for index in raw.maskedImage.image.pixels.indices {
            raw.maskedImage.image.pixels[index] = (raw.image.pixels[index] - bias.pixels[index]) / flat.pixels[index]
        }
        var calexp = raw
        let sorted = raw.image.pixels.sorted()
        let background = sorted[sorted.count / 2]
        for index in calexp.maskedImage.image.pixels.indices {
            let value = raw.image.pixels[index]
            calexp.maskedImage.image.pixels[index] = value - background
            calexp.maskedImage.variance.pixels[index] = max(value, 1)
            if value > 30000 { calexp.maskedImage.mask.image.pixels[index] |= try calexp.mask.bitMask("SAT") }
        }
        // The PSF (known here, fitted in a real pipeline) and the seeing it means, FWHM in
        // arcseconds, published in the header for the registry's `calexp.seeing` field.
        calexp.psf = .gaussian(sigma: psfSigma, width: 17, height: 17)
        calexp.metadata.set("SEEING", .double((psfSigma * 2.3548 * 0.2 * 1000).rounded() / 1000), comment: "PSF FWHM (arcsec)")
        calexp.photoCalib = PhotoCalib(calibrationMean: 0.52, calibrationErr: 0.004)
        calexp.visitInfo = nil  // shared per visit, stored once as calexp.visitInfo
        return calexp
    }

    func run(timed: (String, () async throws -> String) async throws -> Void) async throws {
        let rawDirectory = root.deletingLastPathComponent().appendingPathComponent("demo-raw-files")
        try? FileManager.default.removeItem(at: rawDirectory)
        try FileManager.default.createDirectory(at: rawDirectory, withIntermediateDirectories: true)
        var files: [String] = []
        try await timed("simulate night") {
            for visit in 1...visits {
                for detector in 0..<detectors {
                    let path = rawDirectory.appendingPathComponent("raw_\(visit)_\(detector).fits").path
                    try ExposureFITS.write(rawImage(visit: visit, detector: detector), to: path)
                    files.append(path)
                }
            }
            return "\(files.count) raw FITS files (\(size)² px, \(Self.stars.count) stars, Gaussian PSF, noise) in \(rawDirectory.path)"
        }
        try await timed("ingest-raws") {
            let (count, runs) = try await IngestRaws.ingest(files, into: butler, mapping: RawHeaderMapping(), run: nil, transfer: .copy)
            return "\(count) raws into \(runs.joined(separator: ", ")); exposure records from the headers"
        }
        try await timed("define visits") {
            // The visits registered up front get their regions from the raws' WCSs.
            let defined = try await butler.defineVisits(instrument: instrument, updateRecords: true)
            return "\(defined.count) visits (one per exposure) with visit and detector regions from the raws' WCSs"
        }
        let dataIds = (1...visits).flatMap { visit in (0..<detectors).map { (visit, $0) } }
        try await timed("certify calibrations") {
            try await butler.registerDatasetType("bias", dimensions: ["detector"], storageClass: "ImageF", isCalibration: true)
            try await butler.registerDatasetType(
                "flat", dimensions: ["detector", "physical_filter"], storageClass: "ImageF", isCalibration: true)
            for detector in 0..<detectors {
                let id: DataId = ["instrument": .string(instrument), "detector": .int(Int64(detector))]
                for generation in 0..<2 {
                    try await butler.put(
                        biasImage(detector: detector, generation: generation), "bias", dataId: id,
                        run: "\(instrument)/calib/bias/\(generation)")
                }
                for filter in ["Demo-g", "Demo-r"] {
                    var flatId = id
                    flatId["physical_filter"] = .string(filter)
                    try await butler.put(flatImage(detector: detector), "flat", dataId: flatId, run: "\(instrument)/calib/flat")
                }
            }
            // The second bias takes over half-way through the night; the flats hold for it all.
            let change = try AstroTime(value: dateObs(visit: visits / 2 + 1), scale: .utc)
            let calibrations = "\(instrument)/calib"
            let before = try await butler.certifyCalibrations(
                from: "\(instrument)/calib/bias/0", into: calibrations, datasetType: "bias",
                timespan: try Timespan(begin: try AstroTime(value: "2026-01-01", scale: .tai), end: change))
            try await butler.certifyCalibrations(
                from: "\(instrument)/calib/bias/1", into: calibrations, datasetType: "bias", timespan: try Timespan(begin: change, end: nil)
            )
            try await butler.certifyCalibrations(
                from: "\(instrument)/calib/flat", into: calibrations, datasetType: "flat",
                timespan: try Timespan(begin: try AstroTime(value: "2026-11-01", scale: .tai), end: nil))
            return
                "\(before.count * 2) biases (two generations, from one run each) and \(detectors * 2) flats (from a third) certified into \(calibrations); the bias changes at \(change.isot(scale: .utc, fractionDigits: 0)) UTC"
        }
        try await timed("calibrate") {
            try await butler.registerDatasetType(
                "calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF",
                fields: [try DatasetField(parsing: "seeing:float=metadata.SEEING")])
            try await butler.registerDatasetType("calexp.visitInfo", dimensions: ["visit"], storageClass: "VisitInfo")
            try await butler.registerDatasetType("calexp.wcs", dimensions: ["visit", "detector"], storageClass: "Wcs")
            var biasRuns: [String: Int] = [:]
            for (visit, detector) in dataIds {
                let rawId: DataId = ["instrument": .string(instrument), "exposure": .int(Int64(visit)), "detector": .int(Int64(detector))]
                let raw = try await butler.get("raw", dataId: rawId, collections: ["\(instrument)/raw/all"], as: ExposureF.self)
                // The exposure in the data ID gives the time each calibration must be valid at.
                let biasRef = try await butler.findDataset("bias", dataId: rawId, collections: ["\(instrument)/calib"])
                biasRuns[biasRef?.run ?? "none", default: 0] += 1
                let bias = try await butler.get("bias", dataId: rawId, collections: ["\(instrument)/calib"], as: Image<Float>.self)
                var flatId = rawId
                flatId["physical_filter"] = .string(visit % 2 == 0 ? "Demo-r" : "Demo-g")
                let flat = try await butler.get("flat", dataId: flatId, collections: ["\(instrument)/calib"], as: Image<Float>.self)
                try await butler.put(
                    try calibrate(raw, bias: bias, flat: flat, psfSigma: psfSigma(visit: visit)), "calexp",
                    dataId: ["instrument": .string(instrument), "visit": .int(Int64(visit)), "detector": .int(Int64(detector))],
                    run: "\(instrument)/runs/calib")
            }
            let used = biasRuns.sorted { $0.key < $1.key }.map { "\($0.value) from \($0.key)" }.joined(separator: ", ")
            guard biasRuns.count == 2 else {
                throw CommandFailure("every exposure should have found the bias valid at its time; found \(used)")
            }
            for visit in 1...visits {
                let info = VisitInfo(
                    exposureTime: 30, date: String(format: "2026-11-23T0%d:%02d:15.0", 1 + visit / 6, visit * 7 % 60),
                    boresightRaDec: wcs(visit: visit, detector: 0).crval, boresightAirmass: 1.1 + Double(visit) * 0.01,
                    instrument: instrument, id: Int64(visit))
                try await butler.put(
                    info, "calexp.visitInfo", dataId: ["instrument": .string(instrument), "visit": .int(Int64(visit))],
                    run: "\(instrument)/runs/visits")
            }
            return
                "\(dataIds.count) calexps (bias and flat found by exposure time: \(used)) stored disassembled (one artifact per component) + \(visits) shared visitInfos"
        }
        try await timed("query seeing") {
            let sharp = try await butler.queryDatasets(
                ["calexp"], collections: ["\(instrument)/runs/calib"], where: "calexp.seeing < :limit", bind: ["limit": .double(0.75)])
            let visitsFound = Set(sharp.compactMap { $0.dataId["visit"] }).sorted().map(String.init(describing:))
            let expected = (1...visits).filter { psfSigma(visit: $0) * 2.3548 * 0.2 < 0.75 }.map(String.init)
            guard visitsFound == expected else {
                throw CommandFailure("calexp.seeing < 0.75 found visits \(visitsFound), expected \(expected)")
            }
            return
                "calexp.seeing < 0.75 (a field taken from each calexp's header at put): \(sharp.count) calexps of visits \(visitsFound.joined(separator: ", "))"
        }
        try await timed("refit WCS") {
            for (visit, detector) in dataIds {
                var refined = wcs(visit: visit, detector: detector)
                refined.crval = SpherePoint(ra: refined.crval.ra + 0.03 / 3600, dec: refined.crval.dec - 0.02 / 3600)
                try await butler.put(
                    refined, "calexp.wcs",
                    dataId: ["instrument": .string(instrument), "visit": .int(Int64(visit)), "detector": .int(Int64(detector))],
                    run: "\(instrument)/runs/fit2")
            }
            try await butler.setCollectionChain(
                "\(instrument)/night",
                children: [
                    "\(instrument)/runs/fit2", "\(instrument)/runs/visits", "\(instrument)/runs/calib", "\(instrument)/raw/all",
                ])
            return "calexp.wcs for every calexp in \(instrument)/runs/fit2; chain \(instrument)/night (no pixel rewritten)"
        }
        try await timed("sky queries") {
            let star = Self.stars.max { $0.flux < $1.flux }!
            // Which visits saw the brightest star: its position in a detector's pixels, by WCS.
            let seenBy = Set(
                dataIds.filter { visit, detector in
                    let pixel = wcs(visit: visit, detector: detector).skyToPixel(SpherePoint(ra: star.ra, dec: star.dec))
                    return pixel.x >= -0.5 && pixel.y >= -0.5 && pixel.x < Double(size) - 0.5 && pixel.y < Double(size) - 0.5
                }.map(\.0))
            let point = "POINT(\(star.ra), \(star.dec))"
            let visitsFound = try await butler.queryDataIds(
                ["visit"], where: "instrument = '\(instrument)' AND visit.region OVERLAPS \(point)")
            guard Set(visitsFound.compactMap { $0["visit"]?.intValue.map(Int.init) }) == seenBy else {
                throw CommandFailure("visit.region OVERLAPS \(point) found \(visitsFound), the WCSs say visits \(seenBy.sorted())")
            }
            let circle = "CIRCLE(\(star.ra), \(star.dec), 0.005)"
            let detectorsFound = try await butler.queryDataIds(
                ["visit", "detector"], where: "instrument = '\(instrument)' AND visit_detector_region.region OVERLAPS \(circle)")
            return
                "visits overlapping the brightest star \(point): \(visitsFound.count) (as their WCSs say); detectors overlapping \(circle): \(detectorsFound.count)"
        }
        try await timed("cutouts") {
            let star = Self.stars.max { $0.flux < $1.flux }!
            var found = 0
            for (visit, detector) in dataIds {
                let dataId: DataId = ["instrument": .string(instrument), "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
                let centre = wcs(visit: visit, detector: detector).skyToPixel(SpherePoint(ra: star.ra, dec: star.dec))
                guard centre.x >= 16, centre.y >= 16, centre.x < Double(size - 16), centre.y < Double(size - 16) else { continue }
                let box = Box2I(x0: Int(centre.x) - 15, y0: Int(centre.y) - 15, x1: Int(centre.x) + 15, y1: Int(centre.y) + 15)
                let cutout = try await butler.get(
                    "calexp", dataId: dataId, collections: ["\(instrument)/night"],
                    parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
                guard cutout.visitInfo?.id == Int64(visit), cutout.wcs != wcs(visit: visit, detector: detector) else {
                    throw CommandFailure("visit \(visit) detector \(detector): the shared visitInfo or the refined WCS was not used")
                }
                found += 1
            }
            return "31×31 cutouts of the brightest star in \(found) calexps, each with the refined WCS and its visit's shared visitInfo"
        }
        try await runCoadds(timed: timed)
        let sources = try await butler.componentSources(
            "calexp", dataId: ["instrument": .string(instrument), "visit": 1, "detector": 0],
            collections: ["\(instrument)/night"])
        print(
            "calexp@{visit: 1, detector: 0} assembled from: "
                + sources.sorted { $0.key < $1.key }.map { "\($0.key)←\($0.value.run)" }.joined(separator: ", "))
    }
}

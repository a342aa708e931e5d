import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@Suite("Exposure datasets through the Butler")
struct ExposureDatasetTests {
    func makeButler(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend) { config in
            config.datastore.formatters["calexpTiled"] = .init(
                formatter: "FitsExposureFormatter", parameters: ["compression": "gzip", "tile": [16, 16]])
            config.datastore.formatters["calexpH5"] = .init(
                formatter: "HDF5ExposureFormatter", parameters: ["chunk": [16, 16], "deflate": 1])
            config.datastore.disassembled = ["calexpSplit"]
        }
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        for name in ["calexp", "calexpTiled", "calexpH5", "calexpSplit"] {
            try await butler.registerDatasetType(name, dimensions: ["visit", "detector"], storageClass: "ExposureF")
        }
        return (butler, directory)
    }

    @Test("put and get exact in FITS, tiled FITS and HDF5; cutouts by bbox and origin", arguments: Backend.available)
    func roundTrips(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        for name in ["calexp", "calexpTiled", "calexpH5"] {
            let ref = try await butler.put(calexp, name, dataId: dataId)
            #expect(try await butler.get(ref, as: ExposureF.self) == calexp, "\(name)")
            let box = Box2I(x0: 20, y0: 25, x1: 39, y1: 44)
            let parent = try await butler.get(name, dataId: dataId, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
            #expect(parent == (try calexp.subimage(box)), "\(name)")
            let local = try await butler.get(ref, parameters: ["bbox": [10, 5, 29, 24], "origin": "local"], as: ExposureF.self)
            #expect(local == parent, "\(name)")
            let outside = await #expect(throws: ButlerError.self) {
                try await butler.get(ref, parameters: ["bbox": [0, 0, 5, 5]])
            }
            #expect(
                "\(outside!)".contains("\(name)@") && "\(outside!)".contains("(0, 0)–(5, 5)") && "\(outside!)".contains("(10, 20)–(69, 59)")
            )
            let unknown = await #expect(throws: ButlerError.self) { try await butler.get(ref, parameters: ["zoom": 2]) }
            #expect("\(unknown!)".contains("zoom") && "\(unknown!)".contains("bbox"))
        }
        #expect(try await butler.artifactURLs(try #require(await butler.findDataset("calexpH5", dataId: dataId)))[0].pathExtension == "h5")
        try await butler.close()
    }

    @Test("a dataset written as FITS can be re-put as HDF5 and back with identical content", arguments: [Backend.sqlite])
    func transcoding(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let dataId: DataId = ["instrument": "HSC", "visit": 2, "detector": 1]
        let original = try makeCalexp()
        try await butler.put(original, "calexp", dataId: dataId)
        let fromFits = try await butler.get("calexp", dataId: dataId, as: ExposureF.self)
        try await butler.put(fromFits, "calexpH5", dataId: dataId)
        let fromHdf5 = try await butler.get("calexpH5", dataId: dataId, as: ExposureF.self)
        try await butler.put(fromHdf5, "calexpTiled", dataId: dataId)
        #expect(try await butler.get("calexpTiled", dataId: dataId, as: ExposureF.self) == original)
        try await butler.close()
    }

    @Test("afw-written FITS ingests as an ExposureF dataset", arguments: [Backend.sqlite])
    func ingestAfw(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let hsc = URL(fileURLWithPath: TestData.hscCalexp)
        let refs = try await butler.ingest(
            [FileToIngest(url: hsc, dataId: ["instrument": "HSC", "visit": 3, "detector": 0])],
            datasetType: "calexp", run: "HSC/ingested", transfer: .copy)
        let exposure = try await butler.get(refs[0], as: ExposureF.self)
        #expect(exposure.bbox.extent == Extent2I(64, 32))
        #expect(exposure.psf == .gaussian(sigma: 4, width: 3, height: 3))
        #expect(try await butler.artifactRecords(refs[0])[0].formatter == "FitsExposureFormatter")
        // Its components, one by one.
        #expect(
            try await butler.get(refs[0], component: "wcs", as: Wcs.self).crval == SpherePoint(ra: 320.729416266032, dec: -0.32082280660093)
        )
        #expect(try await butler.get(refs[0], component: "psf", as: Psf.self) == .gaussian(sigma: 4, width: 3, height: 3))
        #expect(abs(try await butler.get(refs[0], component: "photoCalib", as: PhotoCalib.self).calibrationMean - 1.99408751) < 1e-8)
        #expect(try await butler.get(refs[0], component: "visitInfo", as: VisitInfo.self).exposureTime == 30)
        #expect(try await butler.get(refs[0], component: "bbox", as: Box2I.self) == Box2I(x0: 0, y0: 0, x1: 63, y1: 31))
        #expect(try await butler.get(refs[0], component: "mask", as: Mask.self).planes["BAD"] == 0)
        try await butler.close()
    }
}

@Suite("Exposure components")
struct ExposureComponentTests {
    @Test(
        "every component of a single-file FITS or HDF5 calexp, by parent.component",
        arguments: Backend.available.flatMap { backend in ["calexp", "calexpH5"].map { (backend, $0) } })
    func components(backend: Backend, datasetType: String) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let ref = try await butler.put(calexp, datasetType, dataId: dataId)
        #expect(try await butler.get("\(datasetType).wcs", dataId: dataId, as: Wcs.self) == calexp.wcs)
        #expect(try await butler.get("\(datasetType).psf", dataId: dataId, as: Psf.self) == calexp.psf)
        #expect(try await butler.get("\(datasetType).photoCalib", dataId: dataId, as: PhotoCalib.self) == calexp.photoCalib)
        #expect(try await butler.get("\(datasetType).visitInfo", dataId: dataId, as: VisitInfo.self) == calexp.visitInfo)
        #expect(try await butler.get("\(datasetType).bbox", dataId: dataId, as: Box2I.self) == calexp.bbox)
        #expect(try await butler.get("\(datasetType).dimensions", dataId: dataId, as: Extent2I.self) == Extent2I(60, 40))
        #expect(try await butler.get("\(datasetType).xy0", dataId: dataId, as: Point2I.self) == Point2I(10, 20))
        #expect(try await butler.get(ref, component: "metadata", as: Metadata.self) == calexp.metadata)
        let box = Box2I(x0: 20, y0: 25, x1: 29, y1: 34)
        #expect(
            try await butler.get(
                "\(datasetType).image", dataId: dataId, parameters: ["bbox": ImageParameters.value(box)], as: Image<Float>.self)
                == (try calexp.image.subimage(box)))
        #expect(try await butler.get(ref, component: "mask", as: Mask.self) == calexp.mask)
        #expect(try await butler.get(ref, component: "variance", as: Image<Float>.self) == calexp.variance)
        #expect(try await butler.get(ref, component: "maskedImage", as: MaskedImage<Float>.self) == calexp.maskedImage)
        let unknown = await #expect(throws: ButlerError.self) { try await butler.get("\(datasetType).colour", dataId: dataId) }
        #expect("\(unknown!)".contains("no component 'colour'") && "\(unknown!)".contains("wcs"))
        let wrongType = await #expect(throws: ButlerError.self) { try await butler.get("\(datasetType).wcs", dataId: dataId, as: Psf.self) }
        #expect("\(wrongType!)".contains("\(datasetType).wcs (Wcs) cannot be read as Psf"))
        try await butler.close()
    }

    @Test("an absent component is a clear error naming the dataset", arguments: Backend.available)
    func absent(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        var calexp = try makeCalexp()
        calexp.psf = nil
        let ref = try await butler.put(calexp, "calexp", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let error = await #expect(throws: ButlerError.self) { try await butler.get(ref, component: "psf") }
        #expect("\(error!)".contains("calexp@") && "\(error!)".contains("no psf"))
        try await butler.close()
    }

    @Test("component reads never decompress pixels: they work when the pixel tiles are corrupt", arguments: Backend.available)
    func noPixels(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp(width: 300, height: 200)
        let ref = try await butler.put(calexp, "calexpTiled", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let url = try await butler.artifactURLs(ref)[0]
        var bytes = try Data(contentsOf: url)
        // The IMAGE plane's compressed tiles lie between the first and second BINTABLE headers.
        let marker = Data("XTENSION= 'BINTABLE'".utf8)
        let first = try #require(bytes.range(of: marker))
        let second = try #require(bytes.range(of: marker, in: first.upperBound..<bytes.count))
        let middle = (first.upperBound + second.lowerBound) / 2 + 2880
        for index in middle..<min(middle + 2000, second.lowerBound) { bytes[index] = 0x5A }
        try bytes.write(to: url)
        await #expect(throws: ButlerError.self) { try await butler.get(ref) }
        #expect(try await butler.get(ref, component: "wcs", as: Wcs.self) == calexp.wcs)
        #expect(try await butler.get(ref, component: "bbox", as: Box2I.self) == calexp.bbox)
        #expect(try await butler.get(ref, component: "psf", as: Psf.self) == calexp.psf)
        #expect(try await butler.get(ref, component: "photoCalib", as: PhotoCalib.self) == calexp.photoCalib)
        #expect(try await butler.get(ref, component: "visitInfo", as: VisitInfo.self) == calexp.visitInfo)
        try await butler.close()
    }
}

@Suite("Independently versioned and shared components")
struct ComponentVersioningTests {
    @Test(
        "a newer parent.wcs in a later run is used on get without rewriting pixels, single-file or disassembled",
        arguments: Backend.available.flatMap { backend in ["calexp", "calexpSplit"].map { (backend, $0) } })
    func newerWcs(backend: Backend, datasetType: String) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let calexp = try makeCalexp()
        let parent = try await butler.put(calexp, datasetType, dataId: dataId, run: "proc/1")
        let artifacts = try await butler.artifactURLs(parent)
        func modificationDates() throws -> [Date?] {
            try artifacts.map { try FileManager.default.attributesOfItem(atPath: $0.path)[.modificationDate] as? Date }
        }
        let modified = try modificationDates()
        try await butler.registerDatasetType("\(datasetType).wcs", dimensions: ["visit", "detector"], storageClass: "Wcs")
        var refit = try #require(calexp.wcs)
        refit.crval = SpherePoint(ra: refit.crval.ra + 1e-4, dec: refit.crval.dec - 2e-4)
        let wcsRef = try await butler.put(refit, "\(datasetType).wcs", dataId: dataId, run: "fit/2")

        let assembled = try await butler.get(datasetType, dataId: dataId, collections: ["fit/2", "proc/1"], as: ExposureF.self)
        #expect(assembled.wcs == refit)
        #expect(assembled.maskedImage == calexp.maskedImage)
        #expect(assembled.psf == calexp.psf)
        let sources = try await butler.componentSources(datasetType, dataId: dataId, collections: ["fit/2", "proc/1"])
        #expect(sources["wcs"] == wcsRef && sources["psf"] == parent && sources["image"] == parent)
        // The parent's own run first: its stored copy wins (find-first along the path).
        let original = try await butler.get(datasetType, dataId: dataId, collections: ["proc/1", "fit/2"], as: ExposureF.self)
        #expect(original.wcs == calexp.wcs)
        // The component alone follows the same path rules.
        #expect(try await butler.get("\(datasetType).wcs", dataId: dataId, collections: ["fit/2", "proc/1"], as: Wcs.self) == refit)
        // Through a chain, and with a cutout, too; no artifact of the parent was rewritten.
        try await butler.setCollectionChain("HSC/latest", children: ["fit/2", "proc/1"])
        let cutout = try await butler.get(
            datasetType, dataId: dataId, collections: ["HSC/latest"], parameters: ["bbox": [20, 25, 29, 34]], as: ExposureF.self)
        #expect(cutout.wcs == refit && cutout.bbox == Box2I(x0: 20, y0: 25, x1: 29, y1: 34))
        #expect(try modificationDates() == modified)
        try await butler.close()
    }

    @Test("a per-visit visitInfo is stored once and shared by every detector's calexp", arguments: Backend.available)
    func sharedVisitInfo(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        try await butler.registerDatasetType("calexp.visitInfo", dimensions: ["visit"], storageClass: "VisitInfo")
        for detector in 0..<3 {
            try await butler.put(
                try makeCalexp(), "calexp", dataId: ["instrument": "HSC", "visit": 2, "detector": .int(Int64(detector))], run: "proc/1")
        }
        let shared = VisitInfo(exposureTime: 45, date: "2026-11-22T04:00:00.000", boresightAirmass: 1.2, instrument: "HSC", id: 2)
        let visitRef = try await butler.put(shared, "calexp.visitInfo", dataId: ["instrument": "HSC", "visit": 2], run: "visit/summary")
        for detector in 0..<3 {
            let dataId: DataId = ["instrument": "HSC", "visit": 2, "detector": .int(Int64(detector))]
            let calexp = try await butler.get("calexp", dataId: dataId, collections: ["visit/summary", "proc/1"], as: ExposureF.self)
            #expect(calexp.visitInfo == shared)
            #expect(
                try await butler.componentSources("calexp", dataId: dataId, collections: ["visit/summary", "proc/1"])["visitInfo"]
                    == visitRef)
        }
        try await butler.close()
    }

    @Test("component types must fit their parent")
    func validation() async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(.sqlite)
        defer { _ = directory }
        let noParent = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("deepCoadd.wcs", dimensions: ["visit"], storageClass: "Wcs")
        }
        #expect("\(noParent!)".contains("register deepCoadd before"))
        let wrongClass = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("calexp.wcs", dimensions: ["visit", "detector"], storageClass: "Psf")
        }
        #expect("\(wrongClass!)".contains("must have storage class Wcs"))
        let notComponent = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("calexp.bbox", dimensions: ["visit", "detector"], storageClass: "Box2I")
        }
        #expect("\(notComponent!)".contains("no stored component 'bbox'"))
        let extraDimension = await #expect(throws: ButlerError.self) {
            try await butler.registerDatasetType("calexp.psf", dimensions: ["visit", "detector", "tract"], storageClass: "Psf")
        }
        #expect("\(extraDimension!)".contains("'skymap'") || "\(extraDimension!)".contains("'tract'"))
        try await butler.close()
    }
}

@Suite("Disassembled composites")
struct DisassembledTests {
    func makeButler(_ backend: Backend) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend) { config in
            config.datastore.disassembled = ["calexpSplit"]
        }
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        try await butler.registerDatasetType("calexpSplit", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        return (butler, directory)
    }

    @Test("one artifact per component; the same API reads whole objects, cutouts and components", arguments: Backend.available)
    func roundTrip(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let ref = try await butler.put(calexp, "calexpSplit", dataId: dataId)
        let records = try await butler.artifactRecords(ref)
        #expect(Set(records.map(\.component)) == ["image", "mask", "variance", "metadata", "wcs", "psf", "photoCalib", "visitInfo"])
        #expect(records.first { $0.component == "wcs" }?.formatter == "JSONFormatter")
        #expect(records.first { $0.component == "image" }?.formatter == "FitsImageFormatter")
        #expect(Set(records.map(\.path)).count == records.count)
        #expect(try await butler.get(ref, as: ExposureF.self) == calexp)
        let box = Box2I(x0: 20, y0: 25, x1: 39, y1: 44)
        #expect(
            try await butler.get("calexpSplit", dataId: dataId, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
                == (try calexp.subimage(box)))
        #expect(try await butler.get("calexpSplit.wcs", dataId: dataId, as: Wcs.self) == calexp.wcs)
        #expect(try await butler.get("calexpSplit.bbox", dataId: dataId, as: Box2I.self) == calexp.bbox)
        #expect(
            try await butler.get(
                "calexpSplit.image", dataId: dataId, parameters: ["bbox": ImageParameters.value(box)], as: Image<Float>.self)
                == (try calexp.image.subimage(box)))
        try await butler.pruneDatasets([ref], purge: true)
        for record in records {
            #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent(record.path).path))
        }
        try await butler.close()
    }

    @Test("identical component artifacts are stored once and kept while any dataset uses them", arguments: Backend.available)
    func sharedArtifacts(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let first = try await butler.put(try makeCalexp(), "calexpSplit", dataId: ["instrument": "HSC", "visit": 1, "detector": 1])
        var other = try makeCalexp()
        other.maskedImage.image[0, 0] = 42
        let second = try await butler.put(other, "calexpSplit", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let firstRecords = Dictionary(uniqueKeysWithValues: try await butler.artifactRecords(first).map { ($0.component, $0.path) })
        let secondRecords = Dictionary(uniqueKeysWithValues: try await butler.artifactRecords(second).map { ($0.component, $0.path) })
        #expect(firstRecords["psf"] == secondRecords["psf"] && firstRecords["photoCalib"] == secondRecords["photoCalib"])
        #expect(firstRecords["image"] != secondRecords["image"])
        let shared = directory.url.appendingPathComponent(firstRecords["psf"]!).path
        try await butler.pruneDatasets([first], purge: true)
        #expect(FileManager.default.fileExists(atPath: shared))
        #expect(try await butler.get(second, as: ExposureF.self) == other)
        try await butler.pruneDatasets([second], purge: true)
        #expect(!FileManager.default.fileExists(atPath: shared))
        try await butler.close()
    }

    @Test("component and derived reads touch only their artifact: they work with the pixel artifacts broken", arguments: Backend.available)
    func derivedReadsNoPixels(backend: Backend) async throws {
        let (butler, directory) = try await makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp(width: 200, height: 150)
        let ref = try await butler.put(calexp, "calexpSplit", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let records = try await butler.artifactRecords(ref)
        let variance = directory.url.appendingPathComponent(records.first { $0.component == "variance" }!.path)
        try FileManager.default.removeItem(at: variance)
        let image = directory.url.appendingPathComponent(records.first { $0.component == "image" }!.path)
        // Keep the headers, drop the pixels: everything after the last header block.
        let bytes = try Data(contentsOf: image)
        let end = try #require(bytes.range(of: Data("END".utf8) + Data(repeating: 0x20, count: 77), in: 2880..<bytes.count))
        try bytes.prefix((end.upperBound + 2879) / 2880 * 2880).write(to: image)

        let broken = await #expect(throws: ButlerError.self) { try await butler.get(ref) }
        #expect("\(broken!)".contains("calexpSplit@"))
        #expect(try await butler.get(ref, component: "bbox", as: Box2I.self) == calexp.bbox)
        #expect(try await butler.get(ref, component: "dimensions", as: Extent2I.self) == Extent2I(200, 150))
        #expect(try await butler.get(ref, component: "wcs", as: Wcs.self) == calexp.wcs)
        #expect(try await butler.get(ref, component: "psf", as: Psf.self) == calexp.psf)
        try await butler.close()
    }
}

@Suite("Typed views and deferred handles")
struct TypedViewTests {
    @Test("get(as:) converts through declared converters; an impossible conversion fails before any I/O", arguments: Backend.available)
    func views(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let ref = try await butler.put(calexp, "calexp", dataId: dataId)
        #expect(try await butler.get(ref, as: MaskedImage<Float>.self) == calexp.maskedImage)
        #expect(try await butler.get(ref, as: Image<Float>.self) == calexp.image)
        let split = try await butler.put(calexp, "calexpSplit", dataId: dataId)
        #expect(try await butler.get(split, as: MaskedImage<Float>.self) == calexp.maskedImage)
        #expect(try await butler.get(split, component: "image", as: PixelArray<Float>.self) == PixelArray(calexp.image))
        let splitHandle = try await butler.getDeferred("calexpSplit", dataId: dataId, parameters: ["bbox": [10, 20, 19, 29]])
        #expect(try await splitHandle.get(as: Image<Float>.self) == (try calexp.image.subimage(Box2I(x0: 10, y0: 20, x1: 19, y1: 29))))
        let array = try await butler.get(
            "calexp.image", dataId: dataId, parameters: ["bbox": [10, 20, 13, 21]], as: PixelArray<Float>.self)
        let expected = try calexp.image.subimage(Box2I(x0: 10, y0: 20, x1: 13, y1: 21)).pixels
        #expect(array.shape == [2, 4] && array.values == expected)
        // Nothing is read for an impossible conversion: it fails even with the artifact gone.
        try FileManager.default.removeItem(at: try await butler.artifactURLs(ref)[0])
        let impossible = await #expect(throws: ButlerError.self) { try await butler.get(ref, as: [String: Double].self) }
        #expect("\(impossible!)".contains("cannot be read as") && "\(impossible!)".contains("PixelArray<Float>"))
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let metrics = try await butler.put(["seeing": JSONValue.double(0.7)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        #expect(try await butler.get(metrics, as: String.self) == #"{"seeing":0.7}"#)
        #expect(try await butler.get(metrics, as: JSONValue.self) == ["seeing": 0.7])
        try await butler.close()
    }

    @Test("a deferred handle looks up once and merges parameters on each read", arguments: Backend.available)
    func deferred(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let calexp = try makeCalexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        try await butler.put(calexp, "calexp", dataId: dataId, run: "proc/1")
        try await butler.registerDatasetType("calexp.wcs", dimensions: ["visit", "detector"], storageClass: "Wcs")
        var refit = try #require(calexp.wcs)
        refit.crpix = Point2D(31, 41)
        try await butler.put(refit, "calexp.wcs", dataId: dataId, run: "fit/2")
        let handle = try await butler.getDeferred(
            "calexp", dataId: dataId, collections: ["fit/2", "proc/1"], parameters: ["bbox": [10, 20, 19, 29]])
        let cutout = try await handle.get(as: ExposureF.self)
        #expect(cutout.bbox == Box2I(x0: 10, y0: 20, x1: 19, y1: 29) && cutout.wcs == refit)
        let local = try await handle.get(parameters: ["origin": "local", "bbox": [0, 0, 4, 4]], as: ExposureF.self)
        #expect(local.bbox == Box2I(x0: 10, y0: 20, x1: 14, y1: 24))
        #expect(try await handle.get(component: "wcs", as: Wcs.self) == refit)
        #expect(try await handle.get(component: "bbox", parameters: [:], as: Box2I.self) == Box2I(x0: 10, y0: 20, x1: 19, y1: 29))
        // A standalone component is found on its own when its parent is not in the collections.
        #expect(try await butler.get("calexp.wcs", dataId: dataId, collections: ["fit/2"], as: Wcs.self) == refit)
        try await butler.close()
    }
}

@Suite("Raw refresh on retrieval")
struct RawRefreshTests {
    @Test("an ingested raw reads with its header WCS, then with newer fitted raw.wcs and raw.psf", arguments: Backend.available)
    func refresh(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend)
        let butler = try await Butler(repository: directory.url)
        try await butler.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await butler.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
        try await butler.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
        try await butler.insertDimensionRecords("group", [["instrument": "Cam", "name": "g1"]])
        try await butler.insertDimensionRecords("detector", [["instrument": "Cam", "id": 3]])
        try await butler.insertDimensionRecords(
            "exposure",
            [
                [
                    "instrument": "Cam", "id": 77, "physical_filter": "Cam-r",
                    "day_obs": 20261122, "group": "g1", "exposure_time": 30,
                ]
            ])
        try await butler.registerDatasetType("raw", dimensions: ["exposure", "detector"], storageClass: "ExposureF")
        try await butler.registerDatasetType("raw.wcs", dimensions: ["exposure", "detector"], storageClass: "Wcs")
        try await butler.registerDatasetType("raw.psf", dimensions: ["exposure", "detector"], storageClass: "Psf")

        // A raw file: pixels and the header WCS, no PSF.
        let raw = try makeCalexp(width: 40, height: 30, xy0: Point2I(0, 0))
        let file = directory.url.appendingPathComponent("raw_77_3.fits").path
        try ExposureFITS.write(Exposure(maskedImage: raw.maskedImage, wcs: raw.wcs), to: file)
        #expect(try FITSImage<Float>.read(from: file).wcs == raw.wcs)
        let rawRef = try await butler.ingest(
            [FileToIngest(url: URL(fileURLWithPath: file), dataId: ["instrument": "Cam", "exposure": 77, "detector": 3])],
            datasetType: "raw", run: "Cam/raw/all", transfer: .copy, idGenerationMode: .dataIdTypeRun)[0]
        let dataId: DataId = ["instrument": "Cam", "exposure": 77, "detector": 3]
        try await butler.registerRun("Cam/fit")
        let header = try await butler.get("raw", dataId: dataId, collections: ["Cam/fit", "Cam/raw/all"], as: ExposureF.self)
        #expect(header.wcs == raw.wcs && header.psf == nil)

        var fitted = try #require(raw.wcs)
        fitted.crval = SpherePoint(ra: fitted.crval.ra + 3e-4, dec: fitted.crval.dec)
        try await butler.put(fitted, "raw.wcs", dataId: dataId, run: "Cam/fit")
        try await butler.put(Psf.gaussian(sigma: 1.9, width: 17, height: 17), "raw.psf", dataId: dataId, run: "Cam/fit")
        let refreshed = try await butler.get("raw", dataId: dataId, collections: ["Cam/fit", "Cam/raw/all"], as: ExposureF.self)
        #expect(refreshed.wcs == fitted && refreshed.psf == .gaussian(sigma: 1.9, width: 17, height: 17))
        #expect(refreshed.image == raw.image)
        // The raw file itself is untouched.
        #expect(try await butler.get(rawRef, as: ExposureF.self).wcs == raw.wcs)
        try await butler.close()
    }
}

@Suite("Source catalogs calibrated by their calexp")
struct CatalogTests {
    @Test(
        "src binds photoCalib to calexp.photoCalib; as: CalibratedCatalog gives nJy; as: columns gives the table",
        arguments: Backend.available)
    func calibrated(backend: Backend) async throws {
        let (butler, directory) = try await ExposureDatasetTests().makeButler(backend)
        defer { _ = directory }
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let calexp = try makeCalexp()
        let calexpRef = try await butler.put(calexp, "calexp", dataId: dataId, run: "proc/1")
        try await butler.registerDatasetType("src", dimensions: ["visit", "detector"], storageClass: "SourceCatalog")
        let catalog = try SourceCatalog(columns: [
            "x": [10, 20, 30], "psfFlux_instFlux": [100, 200, 400], "psfFlux_instFluxErr": [10, 10, 20],
        ])
        let srcRef = try await butler.put(catalog, "src", dataId: dataId, run: "proc/1")

        let calibrated = try await butler.get("src", dataId: dataId, collections: ["proc/1"], as: CalibratedCatalog.self)
        #expect(calibrated.photoCalib == calexp.photoCalib)
        #expect(calibrated.columns["psfFlux_nJy"] == [200, 400, 800])
        #expect(abs(calibrated.columns["psfFlux_mag"]![0] - (-2.5 * log10(200) + 31.4)) < 1e-3)
        #expect(try await butler.get("src", dataId: dataId, collections: ["proc/1"], as: [String: [Double]].self) == catalog.columns)
        #expect(try await butler.get("src.photoCalib", dataId: dataId, collections: ["proc/1"], as: PhotoCalib.self) == calexp.photoCalib)
        #expect(try await butler.componentSources("src", dataId: dataId, collections: ["proc/1"])["photoCalib"] == calexpRef)
        // A get by ref has no collections to search: the catalog as stored, without calibration.
        let bare = await #expect(throws: ButlerError.self) { try await butler.get(srcRef, as: CalibratedCatalog.self) }
        #expect("\(bare!)".contains("photoCalib"))
        // A catalog stored with its own calibration keeps it, unless a calexp comes first.
        let own = try SourceCatalog(columns: ["psfFlux_instFlux": [1]], photoCalib: PhotoCalib(calibrationMean: 5))
        try await butler.put(own, "src", dataId: ["instrument": "HSC", "visit": 2, "detector": 2], run: "proc/1")
        try await butler.put(calexp, "calexp", dataId: ["instrument": "HSC", "visit": 2, "detector": 2], run: "proc/1")
        let kept = try await butler.get(
            "src", dataId: ["instrument": "HSC", "visit": 2, "detector": 2], collections: ["proc/1"], as: CalibratedCatalog.self)
        #expect(kept.photoCalib == PhotoCalib(calibrationMean: 5))
        try await butler.close()
    }
}

@Suite("Storage classes from configuration")
struct ConfiguredStorageClassTests {
    @Test("a storage class defined in butler.yaml like an existing one works end to end", arguments: Backend.available)
    func configured(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend) { config in
            config.storageClasses = ["ExposureF_v2": .init(like: "ExposureF", doc: "Our calibrated exposures")]
        }
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        #expect(try butler.storageClasses.storageClass(named: "ExposureF_v2").doc == "Our calibrated exposures")
        try await butler.registerDatasetType("calexp2", dimensions: ["visit", "detector"], storageClass: "ExposureF_v2")
        let calexp = try makeCalexp()
        let ref = try await butler.put(calexp, "calexp2", dataId: ["instrument": "HSC", "visit": 1, "detector": 1])
        #expect(try await butler.get(ref, as: ExposureF.self) == calexp)
        #expect(try await butler.get(ref, component: "wcs", as: Wcs.self) == calexp.wcs)
        #expect(try await butler.artifactRecords(ref)[0].formatter == "FitsExposureFormatter")
        try await butler.close()

        var config = try RepositoryConfig.load(root: directory.url)
        config.storageClasses = ["Broken": .init(like: "NoSuchClass")]
        try config.write(root: directory.url)
        let error = await #expect(throws: ButlerError.self) { try await Butler(repository: directory.url) }
        #expect("\(error!)".contains("storage class Broken") && "\(error!)".contains("NoSuchClass"))
    }
}

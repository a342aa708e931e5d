import ArgumentParser
import Composites
import Formatters
import Foundation

/// The on-disk image formats the file commands understand: chosen by extension for a file to
/// write, and for a file to read by extension or else by its first bytes.
enum ImageFormat {
    case fits, hdf5

    /// The format of a file to write, from its extension (a command-line choice).
    init(path: String) throws {
        guard let format = Self(extensionOf: path) else {
            throw ValidationError("\(path): unknown image format (use .fits or .h5)")
        }
        self = format
    }

    /// The format of an existing file: its extension, else its signature (`SIMPLE  =` for
    /// FITS, the HDF5 signature at byte 0, 512, 1024 or 2048). A file that is neither is a
    /// data error naming the file.
    init(reading path: String) throws {
        if let format = Self(extensionOf: path) {
            self = format
            return
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CommandFailure("\(path): no such file or not readable") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 2056)) ?? Data()
        let hdf5Signature = Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
        if head.starts(with: Data("SIMPLE  =".utf8)) {
            self = .fits
        } else if [0, 512, 1024, 2048].contains(where: { head.count >= $0 + 8 && head[$0..<$0 + 8] == hdf5Signature }) {
            self = .hdf5
        } else {
            throw CommandFailure("\(path) is neither a FITS nor an HDF5 file (no FITS or HDF5 signature)")
        }
    }

    private init?(extensionOf path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "fits", "fit", "fz": self = .fits
        case "h5", "hdf5", "hdf": self = .hdf5
        default: return nil
        }
    }
}

struct ImageInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-info", abstract: "Describe an Exposure file (FITS or HDF5) without reading its pixels.")

    @Argument(help: "A .fits or .h5 file.") var file: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let info: ExposureFileInfo
        switch try ImageFormat(reading: file) {
        case .fits: info = try ExposureFITS.info(of: file)
        case .hdf5: info = try ExposureHDF5.info(of: file)
        }
        if output.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
            return
        }
        print("file:        \(file)")
        print("bbox:        \(info.bbox) (\(info.bbox.extent), xy0 \(info.bbox.min))")
        for plane in info.planes {
            print("plane:       \(plane.name) HDU \(plane.hdu) \(plane.pixelType)\(plane.compressed ? " tile-compressed" : "")")
        }
        if let wcs = info.wcs {
            print(
                "wcs:         \(wcs.projection.rawValue)\(wcs.hasDistortion ? "-SIP" : "") crval \(wcs.crval) crpix \(wcs.crpix) (0-based parent) scale \(String(format: "%.4f", wcs.pixelScale))″/px"
            )
            let centre = Point2D(
                Double(info.bbox.min.x) + Double(info.bbox.width - 1) / 2, Double(info.bbox.min.y) + Double(info.bbox.height - 1) / 2)
            print("centre:      \(wcs.pixelToSky(centre))")
        } else {
            print("wcs:         none")
        }
        print("mask planes: \(info.maskPlanes.sorted { $0.value < $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        switch info.psf {
        case .gaussian(let sigma, let width, let height)?: print("psf:         Gaussian sigma \(sigma) px, kernel \(width)×\(height)")
        case .image(let kernel)?:
            print("psf:         kernel image \(kernel.bbox.extent), sigma \(String(format: "%.3f", Psf.image(kernel: kernel).sigma)) px")
        case nil: print("psf:         none")
        }
        if let calib = info.photoCalib {
            print("photoCalib:  \(calib.calibrationMean) ± \(calib.calibrationErr) nJy/count")
        } else {
            print("photoCalib:  none")
        }
        if let visit = info.visitInfo {
            print(
                "visitInfo:   exposure \(visit.exposureTime.map { "\($0) s" } ?? "?"), date \(visit.date ?? "?") \(visit.timeScale), airmass \(visit.boresightAirmass.map { String($0) } ?? "?")"
            )
        } else {
            print("visitInfo:   none")
        }
    }
}

struct ImageConvert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-convert",
        abstract: "Convert an Exposure between FITS and HDF5 (by extension), optionally as a cutout or with other compression.")

    @Argument(help: "Input .fits or .h5 file.") var input: String
    @Argument(help: "Output .fits or .h5 file (must not exist).") var output: String
    @Option(name: .long, help: "Cutout box x0,y0,x1,y1 (inclusive corners).") var bbox: String?
    @Option(name: .long, help: "Coordinates of --bbox: parent (default) or local.") var origin: String = "parent"
    @Option(name: .long, help: "FITS compression: none, gzip or rice.") var compression: String = "none"
    @Option(name: .long, help: "FITS tile or HDF5 chunk shape WxH.") var tile: String = "256x256"
    @Option(name: .long, help: "HDF5 deflate level (0 = none).") var deflate: Int = 0

    func run() async throws {
        guard let imageOrigin = ImageOrigin(rawValue: origin) else { throw ValidationError("--origin must be parent or local") }
        guard let algorithm = FITSCompression.Algorithm(rawValue: compression) else {
            throw ValidationError("--compression must be none, gzip or rice")
        }
        let tileParts = tile.lowercased().split(separator: "x").compactMap { Int($0) }
        guard tileParts.count == 2, tileParts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--tile must be WxH, e.g. 256x256") }
        var box: Box2I?
        if let bbox {
            let corners = bbox.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard corners.count == 4 else { throw ValidationError("--bbox must be x0,y0,x1,y1") }
            box = Box2I(x0: corners[0], y0: corners[1], x1: corners[2], y1: corners[3])
        }
        if FileManager.default.fileExists(atPath: output) { throw CommandFailure("\(output) exists; refusing to overwrite") }
        let inputFormat = try ImageFormat(reading: input), outputFormat = try ImageFormat(path: output)
        let planeType =
            try (inputFormat == .fits ? ExposureFITS.info(of: input) : ExposureHDF5.info(of: input)).planes.first?.pixelType ?? "Float32"
        /// Converts with pixels of `P`; returns the box written.
        func convert<P: ImagePixel>(_ type: P.Type) throws -> Box2I {
            let exposure =
                inputFormat == .fits
                ? try ExposureFITS.read(P.self, from: input, bbox: box, origin: imageOrigin)
                : try ExposureHDF5.read(P.self, from: input, bbox: box, origin: imageOrigin)
            let temporary = output + ".tmp-\(UUID().uuidString)"
            do {
                switch outputFormat {
                case .fits:
                    try ExposureFITS.write(
                        exposure, to: temporary, compression: FITSCompression(algorithm, tile: Extent2I(tileParts[0], tileParts[1])))
                case .hdf5:
                    try ExposureHDF5.write(
                        exposure, to: temporary,
                        layout: HDF5Layout(chunk: Extent2I(tileParts[0], tileParts[1]), deflate: deflate == 0 ? nil : deflate))
                }
                try FileManager.default.moveItem(atPath: temporary, toPath: output)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            return exposure.bbox
        }
        guard let pixel = PixelKind(rawValue: planeType)?.imagePixelType else {
            throw CommandFailure("\(input): unsupported image pixel type \(planeType)")
        }
        let bboxWritten = try convert(pixel)
        print("Wrote \(output): \(bboxWritten.extent) at xy0 \(bboxWritten.min)")
    }
}

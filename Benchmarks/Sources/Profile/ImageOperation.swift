// Image reads for the profiler: the formatter alone and through the Butler, on a 4096²
// exposure of the Images benchmark (PROFILE_KIND=fits-none, fits-gzip or hdf5).
import BareIO
import Butler
import Composites
import Formatters
import Foundation

enum ImageOperation: String {
    case fitsCutout = "fits-cutout"
    case fitsFull = "fits-full"
    case butlerCutout = "butler-cutout"
    case butlerFull = "butler-full"
    case butlerWcs = "butler-wcs"
    case fitsWcs = "fits-wcs"
    case bareFull = "bare-full"

    static let cutout = Box2I(min: Point2I(1900, 1700), extent: Extent2I(256, 256))

    /// Runs the read `iterations` times; returns the elapsed seconds.
    func run(iterations: Int, directory: String) async throws -> Double {
        // PROFILE_KIND picks the Images benchmark's file and dataset type: fits-none (default),
        // fits-gzip or hdf5.
        let kind = ProcessInfo.processInfo.environment["PROFILE_KIND"] ?? "fits-none"
        let path = directory + "/exposure-4096-\(kind).\(kind == "hdf5" ? "h5" : "fits")"
        let datasetType = "calexp_" + kind.replacingOccurrences(of: "-", with: "_")
        guard FileManager.default.fileExists(atPath: path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        let butler = try await Butler(repository: URL(fileURLWithPath: directory + "/repo"), collections: ["bench"], writeable: false)
        let dataId: DataId = ["instrument": "Cam", "visit": 1, "detector": 0]
        let ref = try await butler.findDataset(datasetType, dataId: dataId)!
        let start = ContinuousClock.now
        var sink = 0
        for _ in 0..<iterations {
            switch self {
            case .fitsCutout: sink &+= try ExposureFITS.read(Float.self, from: path, bbox: Self.cutout).maskedImage.image.pixels.count
            case .fitsFull: sink &+= try ExposureFITS.read(Float.self, from: path).maskedImage.image.pixels.count
            case .butlerCutout:
                let exposure = try await butler.get(ref, parameters: ["bbox": ImageParameters.value(Self.cutout)]) as! Exposure<Float>
                sink &+= exposure.maskedImage.image.pixels.count
            case .butlerFull: sink &+= (try await butler.get(ref) as! Exposure<Float>).maskedImage.image.pixels.count
            case .fitsWcs: sink &+= (try ExposureFITS.readComponent(Float.self, "wcs", from: path)) is Wcs ? 1 : 0
            case .butlerWcs: sink &+= (try await butler.get(datasetType + ".wcs", dataId: dataId)) is Wcs ? 1 : 0
            case .bareFull:
                // The Images benchmark's limit: bare cfitsio into fresh, unzeroed planes.
                let count = 4096 * 4096
                let image = UnsafeMutablePointer<Float>.allocate(capacity: count)
                let mask = UnsafeMutablePointer<Int32>.allocate(capacity: count)
                let variance = UnsafeMutablePointer<Float>.allocate(capacity: count)
                defer {
                    image.deallocate()
                    mask.deallocate()
                    variance.deallocate()
                }
                guard bare_fits_read_planes(path, 1, 1, 4096, 4096, image, mask, variance) == 0 else {
                    throw CocoaError(.fileReadCorruptFile)
                }
                sink &+= Int(mask[0]) &+ 1
            }
        }
        let elapsed = ContinuousClock.now - start
        try await butler.close()
        precondition(sink > 0)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

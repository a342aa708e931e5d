import Composites
import Formatters
import FuzzDriver
import FuzzSupport

/// FITS headers, layouts and images from any bytes: the header pre-check, the header reader
/// raw ingest uses, the completeness check, the exposure layout probe and reads, and a plain
/// image read, the byte layout and the header walk of ranged reads — each may refuse the file, none may crash or allocate without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFITS(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let path = FuzzInput.file(start, count, extension: "fits")
    _ = try? FITSHeaders.read(from: path)
    _ = try? FITSHeaders.verifyComplete(path)
    _ = try? FITSImage<Float>.read(from: path)
    _ = try? FITSImage<Int32>.read(from: path)
    _ = try? ExposureFITS.read(Float.self, from: path)
    _ = try? ExposureFITS.readComponent(Float.self, "wcs", from: path)
    // The layout recorded at put time, and the header walk of a remote artifact with none.
    _ = try? ByteLayout.fits(at: path)
    let bytes = UnsafeBufferPointer(start: data, count: count)
    _ = try? FitsExposureFormatter().metadataRanges(fileSize: Int64(count), path: path) { range in
        Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])
    }
    return 0
}

/// The entry point of a debug build (SwiftPM renames `main` to `FuzzFITS_main`).
@_cdecl("FuzzFITS_main")
public func fuzzFITSMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    butler_fuzz_run(argc, argv, { fuzzFITS($0, $1) })
}

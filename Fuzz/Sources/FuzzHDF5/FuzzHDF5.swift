import Composites
import Formatters
import FuzzDriver
import FuzzSupport

/// HDF5 files from any bytes: opening, the exposure layout and a read may refuse the file,
/// never crash or allocate without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHDF5(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let path = FuzzInput.file(start, count, extension: "h5")
    _ = try? ExposureHDF5.read(Float.self, from: path)
    _ = try? ExposureHDF5.readComponent(Float.self, "wcs", from: path)
    return 0
}

/// The entry point of a debug build (SwiftPM renames `main` to `FuzzHDF5_main`).
@_cdecl("FuzzHDF5_main")
public func fuzzHDF5Main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    butler_fuzz_run(argc, argv, { fuzzHDF5($0, $1) })
}

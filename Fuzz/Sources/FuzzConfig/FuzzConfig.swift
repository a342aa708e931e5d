import Butler
import Composites
import Formatters
import Foundation
import FuzzDriver
import FuzzSupport

/// Configuration and record files from any bytes: a repository's `butler.yaml`, and YAML and
/// JSON datasets read as `StructuredDataDict` — alias bombs, deep nesting, huge numbers, NUL
/// and invalid UTF-8 get an error in bounded time and memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let config = FuzzInput.file(start, count, extension: "yaml")
    let directory = URL(fileURLWithPath: FuzzInput.directory)
    _ = try? RepositoryConfig.load(root: directory, fileName: "input.yaml")
    let json = FuzzInput.file(start, count, extension: "json")
    for (path, ext) in [(config, "yaml"), (json, "json")] {
        guard let formatter = try? formatters.formatter(forExtension: ext) else { continue }
        _ = try? formatter.read(from: URL(fileURLWithPath: path), storageClass: storageClass, parameters: [:])
    }
    return 0
}

let formatters = FormatterRegistry()
let storageClass = try! StorageClassRegistry().storageClass(named: "StructuredDataDict")

/// The entry point of a debug build (SwiftPM renames `main` to `FuzzConfig_main`).
@_cdecl("FuzzConfig_main")
public func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    butler_fuzz_run(argc, argv, { fuzzConfig($0, $1) })
}

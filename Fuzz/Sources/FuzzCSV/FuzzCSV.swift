import FuzzDriver
import SwiftCSV

/// The CSV reader `butler ingest-files` hands a user's table to (SwiftCSV's `EnumeratedCSV`,
/// as the command calls it): any bytes — unbalanced quotes, NUL, invalid UTF-8, huge rows —
/// give rows or an error, never a crash, a hang or unbounded memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    if let table = try? EnumeratedCSV(string: text, loadColumns: false) {
        for row in table.rows { _ = row.count == table.header.count }
    }
    return 0
}

/// The entry point of a debug build (SwiftPM renames `main` to `FuzzCSV_main`).
@_cdecl("FuzzCSV_main")
public func fuzzCSVMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    butler_fuzz_run(argc, argv, { fuzzCSV($0, $1) })
}

import Butler
import FuzzDriver

/// The where-language parser on any bytes: it may refuse them, never crash, hang or grow
/// without bound (deep nesting, long chains, huge numbers, NUL and invalid UTF-8).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWhere(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let expression = try? QueryExpression.parse(text) {
        // What parses prints as text that parses to the same expression.
        let again = try? QueryExpression.parse(expression.description)
        precondition(again == expression, "'\(text)' parsed as \(expression), whose text parses as \(String(describing: again))")
    }
    return 0
}

/// The entry point of a debug build (SwiftPM renames `main` to `FuzzWhere_main`).
@_cdecl("FuzzWhere_main")
public func fuzzWhereMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    butler_fuzz_run(argc, argv, { fuzzWhere($0, $1) })
}

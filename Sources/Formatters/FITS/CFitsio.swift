import CFitsShim

/// Every cfitsio call of the package goes through this file: `check` turns a status into a
/// ``FITSError`` carrying cfitsio's own text and its message stack.
enum CFitsio {
    /// Throws if `status` is not 0.
    static func check(_ status: Int32, _ function: String, path: String, context: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw error(status, function, path: path, context: context())
    }

    static func error(_ status: Int32, _ function: String, path: String, context: String) -> FITSError {
        var text = [CChar](repeating: 0, count: 32)
        ffgerr(status, &text)
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 96)
        while ffgmsg(&buffer) != 0 {
            let line = cString(buffer).trimmingCharacters(in: .whitespaces)
            if !line.isEmpty { messages.append(line) }
        }
        let summary = cString(text)
        let detail = messages.filter { $0 != summary }.joined(separator: "; ")
        return FITSError(
            path: path, function: function, status: FITSStatus(rawValue: status),
            message: detail.isEmpty ? summary : "\(summary): \(detail)", context: context)
    }
}

import Foundation

/// Decodes a NUL-terminated C buffer filled by cfitsio.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

import CFitsShim

/// Every cfitsio call of the package goes through this file: `check` turns a status into a
/// ``FITSError`` carrying cfitsio's own text and its message stack.
enum CFitsio {
    /// Throws if `status` is not 0.
    static func check(_ status: Int32, _ function: String, path: String, context: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw error(status, function, path: path, context: context())
    }

    /// Empties cfitsio's message stack. cfitsio leaves messages there for failures it
    /// handles itself (deleting absent keywords while compressing an image), and a later
    /// error would report them as its own; every file open and create starts clean.
    static func clearMessages() {
        ffcmsg()
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
    buffer.withUnsafeBufferPointer { chars in
        guard let base = chars.baseAddress else { return "" }
        let length = chars.firstIndex(of: 0) ?? chars.count
        return base.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }
}

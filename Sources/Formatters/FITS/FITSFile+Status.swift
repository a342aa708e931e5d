import CFitsShim

/// Status and message handling for ``FITSFile``, the only type that calls cfitsio: `check`
/// turns a status into a ``FITSError`` carrying cfitsio's own text and its message stack.
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
            var line = Substring(cString(buffer))
            while line.first == " " { line.removeFirst() }
            while line.last == " " { line.removeLast() }
            if !line.isEmpty { messages.append(String(line)) }
        }
        let summary = cString(text)
        let detail = messages.filter { $0 != summary }.joined(separator: "; ")
        return FITSError(
            path: path, function: function, status: FITSStatus(rawValue: status),
            message: detail.isEmpty ? summary : "\(summary): \(detail)", context: context)
    }
}

extension PixelKind {
    /// cfitsio's BITPIX of new images of this kind.
    var fitsBitpix: Int32 {
        switch self {
        case .uint8: return BYTE_IMG
        case .int16: return SHORT_IMG
        case .uint16: return USHORT_IMG
        case .int32: return LONG_IMG
        case .uint32: return ULONG_IMG
        case .int64: return LONGLONG_IMG
        case .float32: return FLOAT_IMG
        case .float64: return DOUBLE_IMG
        }
    }

    /// cfitsio's datatype code for reading and writing pixels of this kind.
    var fitsDatatype: Int32 {
        switch self {
        case .uint8: return TBYTE
        case .int16: return TSHORT
        case .uint16: return TUSHORT
        case .int32: return TINT
        case .uint32: return TUINT
        case .int64: return TLONGLONG
        case .float32: return TFLOAT
        case .float64: return TDOUBLE
        }
    }

    /// The kind of an HDU's equivalent BITPIX (after BZERO/BSCALE), or nil for one we do not
    /// know.
    init?(fitsBitpix bitpix: Int32) {
        guard let kind = Self.allCases.first(where: { $0.fitsBitpix == bitpix }) else { return nil }
        self = kind
    }
}

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

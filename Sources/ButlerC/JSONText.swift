import Butler
import Composites

/// JSON text ↔ ``JSONValue`` for the C ABI's arguments and results, by hand: every call takes a
/// data ID and most return JSON, and Foundation's `JSONDecoder`/`JSONEncoder` cost 15–30 µs
/// each even for a four-key object here — more than the binding's whole budget on a 100 µs get.
/// This reads and writes the same JSON (RFC 8259) in about a microsecond.
enum JSONText {
    /// Parses JSON text.
    /// - Throws: ``BindingFailure`` (invalid JSON) naming the argument and the offset.
    static func parse(_ text: String, argument: String) throws -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8), argument: argument)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.failure("unexpected text after the value") }
        return value
    }

    /// A data ID: an object of ints and strings.
    static func dataId(_ value: JSONValue, argument: String) throws -> DataId {
        guard case .object(let members) = value else {
            throw BindingFailure(.invalidJSON, "argument '\(argument)' must be a JSON object of dimension names to values")
        }
        var result: DataId = [:]
        for (key, member) in members {
            switch member {
            case .int(let number): result[key] = .int(number)
            case .string(let text): result[key] = .string(text)
            default: throw BindingFailure(.invalidJSON, "argument '\(argument)': \(key) must be an integer or a string, not \(member)")
            }
        }
        return result
    }

    /// A list of names.
    static func strings(_ value: JSONValue, argument: String) throws -> [String] {
        guard case .array(let items) = value else {
            throw BindingFailure(.invalidJSON, "argument '\(argument)' must be a JSON array of strings")
        }
        return try items.map { item in
            guard case .string(let text) = item else {
                throw BindingFailure(.invalidJSON, "argument '\(argument)': \(item) is not a string")
            }
            return text
        }
    }

    /// JSON text of a value, object keys sorted (stable output).
    /// - Throws: ``BindingFailure`` for a number JSON cannot hold (NaN, infinity).
    static func write(_ value: JSONValue) throws -> String {
        var out = ""
        try write(value, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout String) throws {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .double(let number):
            guard number.isFinite else { throw BindingFailure(.typeMismatch, "the value \(number) has no JSON form") }
            out += "\(number)"
        case .string(let text): quote(text, into: &out)
        case .array(let items):
            out += "["
            for (position, item) in items.enumerated() {
                if position > 0 { out += "," }
                try write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (position, key) in members.keys.sorted().enumerated() {
                if position > 0 { out += "," }
                quote(key, into: &out)
                out += ":"
                try write(members[key]!, into: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A recursive-descent reader over UTF-8 bytes.
    private struct Parser {
        let bytes: [UInt8]
        let argument: String
        var index = 0
        static let maxDepth = 512

        init(bytes: [UInt8], argument: String) {
            self.bytes = bytes
            self.argument = argument
        }

        func failure(_ reason: String) -> BindingFailure {
            BindingFailure(.invalidJSON, "argument '\(argument)' is not valid JSON at byte \(index): \(reason)")
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ word: String, _ value: JSONValue) throws -> JSONValue {
            let utf8 = Array(word.utf8)
            guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                throw failure("expected \(word)")
            }
            index += utf8.count
            return value
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < Self.maxDepth else { throw failure("nested more than \(Self.maxDepth) deep") }
            guard index < bytes.count else { throw failure("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws -> JSONValue {
            index += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                index += 1
                skipSpace()
                members[key] = try value(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw failure("unexpected end of object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw failure("expected ',' or '}'") }
                index += 1
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw failure("unexpected end of array") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw failure("expected ',' or ']'") }
                index += 1
                return .array(items)
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                throw failure("bad \\u escape")
            }
            index += 4
            return value
        }

        mutating func string() throws -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var start = index
            func flush(_ parser: Parser) {
                scalars.append(contentsOf: String(decoding: parser.bytes[start..<parser.index], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard index < bytes.count else { throw failure("unterminated string") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    flush(self)
                    index += 1
                    return String(scalars)
                }
                if byte < 0x20 { throw failure("control character in a string") }
                if byte != UInt8(ascii: "\\") {
                    index += 1
                    continue
                }
                flush(self)
                index += 1
                guard index < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("invalid code point") }
                    scalars.append(scalar)
                default: throw failure("unknown escape")
                }
                start = index
            }
        }

        mutating func number() throws -> JSONValue {
            let start = index
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                    index += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    integral = false
                    index += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard !text.isEmpty, text != "-" else { throw failure("expected a value") }
            if integral, let number = Int64(text) { return .int(number) }
            guard let number = Double(text), number.isFinite, text.first != "+", !text.hasPrefix("-+") else {
                throw failure("'\(text)' is not a number")
            }
            return .double(number)
        }
    }
}

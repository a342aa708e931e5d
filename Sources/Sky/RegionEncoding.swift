import Foundation

/// lsst-sphgeom's binary region encoding: a type byte (`c` circle, `b` box, `p` polygon, `u`
/// union, `i` intersection, `e` ellipse) then little-endian doubles; compound regions hold each
/// operand as a little-endian UInt64 length and its encoding. The registry stores it as base64
/// text, as daf_butler does.
extension Region {
    /// The sphgeom encoding.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The sphgeom encoding as base64 (daf_butler's region column text).
    public var base64: String { Data(encoded).base64EncodedString() }

    private func encode(into bytes: inout [UInt8]) {
        func put(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        switch self {
        case .circle(let c):
            bytes.append(UInt8(ascii: "c"))
            for value in [c.center.x, c.center.y, c.center.z, c.squaredChordLength, c.openingAngle] { put(value) }
        case .box(let b):
            bytes.append(UInt8(ascii: "b"))
            for value in [b.lon.a, b.lon.b, b.lat.a, b.lat.b] { put(value) }
        case .polygon(let p):
            bytes.append(UInt8(ascii: "p"))
            for v in p.vertices { for value in [v.x, v.y, v.z] { put(value) } }
        case .union(let operands), .intersection(let operands):
            if case .union = self { bytes.append(UInt8(ascii: "u")) } else { bytes.append(UInt8(ascii: "i")) }
            for operand in operands {
                let inner = operand.encoded
                withUnsafeBytes(of: UInt64(inner.count).littleEndian) { bytes.append(contentsOf: $0) }
                bytes.append(contentsOf: inner)
            }
        }
    }

    /// The region of a sphgeom encoding.
    /// - Throws: ``SkyError`` naming what is wrong: an unknown type byte, a length that does not
    ///   fit the type, a value that is not finite, a polygon that is not convex.
    public init(encoded bytes: [UInt8]) throws {
        guard let type = bytes.first else { throw SkyError("an encoded region is empty") }
        func double(at offset: Int) -> Double {
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
            return Double(bitPattern: bits)
        }
        func unitVector(at offset: Int) throws -> UnitVector3d {
            do {
                return try UnitVector3d(unitComponents: double(at: offset), double(at: offset + 8), double(at: offset + 16))
            } catch let error as SkyError {
                throw SkyError("encoded region: \(error.message)")
            }
        }
        switch type {
        case UInt8(ascii: "c"):
            guard bytes.count == 41 else { throw SkyError("an encoded circle has 41 bytes, not \(bytes.count)") }
            let center = try unitVector(at: 1)
            let squaredChordLength = double(at: 25), openingAngle = double(at: 33)
            guard !squaredChordLength.isInfinite, !openingAngle.isInfinite else {
                throw SkyError("encoded circle has radius \(openingAngle), squared chord \(squaredChordLength)")
            }
            self = .circle(Circle(center: center, squaredChordLength: squaredChordLength, openingAngle: openingAngle))
        case UInt8(ascii: "b"):
            guard bytes.count == 33 else { throw SkyError("an encoded box has 33 bytes, not \(bytes.count)") }
            let values = (0..<4).map { double(at: 1 + 8 * $0) }
            guard values.allSatisfy({ !$0.isInfinite }) else { throw SkyError("encoded box has bounds \(values)") }
            do {
                self = .box(
                    Box(lon: try LongitudeInterval(unnormalized: values[0], values[1]), lat: AngleInterval(a: values[2], b: values[3])))
            } catch {
                throw SkyError("encoded box has longitudes \(values[0]) > \(values[1]) outside [0, 2π]")
            }
        case UInt8(ascii: "p"):
            guard bytes.count >= 73, (bytes.count - 1) % 24 == 0 else {
                throw SkyError("an encoded polygon has 1 + 24·n bytes with n ≥ 3, not \(bytes.count)")
            }
            let vertices = try stride(from: 1, to: bytes.count, by: 24).map { try unitVector(at: $0) }
            self = .polygon(try ConvexPolygon(vertices: vertices))
        case UInt8(ascii: "u"), UInt8(ascii: "i"):
            var operands: [Region] = []
            var offset = 1
            while offset < bytes.count {
                guard offset + 8 <= bytes.count else { throw SkyError("an encoded compound region is truncated") }
                var length: UInt64 = 0
                for k in 0..<8 { length |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
                offset += 8
                guard length <= UInt64(bytes.count - offset) else { throw SkyError("an encoded compound region is truncated") }
                operands.append(try Region(encoded: Array(bytes[offset..<offset + Int(length)])))
                offset += Int(length)
            }
            self = type == UInt8(ascii: "u") ? .unionOf(operands) : .intersectionOf(operands)
        case UInt8(ascii: "e"):
            throw SkyError("ellipse regions are not supported (encoded type 'e')")
        default:
            throw SkyError("byte \(type) does not start an encoded region")
        }
    }

    /// The region of daf_butler's base64 text: one encoded region, several joined by `:` (a
    /// union), or the empty string (the empty union).
    /// - Throws: ``SkyError`` for text that is not base64 or not an encoded region.
    public init(base64 text: String) throws {
        if text.isEmpty {
            self = .union([])
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let regions = try parts.map { part -> Region in
            guard let data = Data(base64Encoded: String(part)) else {
                throw SkyError("region text \"\(text.prefix(60))\" is not base64")
            }
            do {
                return try Region(encoded: [UInt8](data))
            } catch let error as SkyError {
                throw SkyError("region text \"\(text.prefix(60))\": \(error.message)")
            }
        }
        self = regions.count == 1 ? regions[0] : .unionOf(regions)
    }

    /// The region of an IVOA SIAv2 `POS` string, in degrees: `CIRCLE lon lat radius`,
    /// `RANGE lon1 lon2 lat1 lat2` (±Inf for open ends) or `POLYGON lon1 lat1 …` (the convex
    /// hull, as sphgeom's `Region.from_ivoa_pos`).
    /// - Throws: ``SkyError`` naming the string for a wrong shape, count or value.
    public init(ivoaPOS text: String) throws {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let shape = words.first else { throw SkyError("POS string is empty") }
        let numbers = try words.dropFirst().map { word -> Double in
            guard let value = Double(word) else { throw SkyError("\"\(word)\" is not a number in POS string '\(text)'") }
            return value
        }
        switch shape {
        case "CIRCLE":
            guard numbers.count == 3 else { throw SkyError("CIRCLE requires 3 numbers but got \(numbers.count) in '\(text)'") }
            self = .circle(try Circle(lonDegrees: numbers[0], latDegrees: numbers[1], radiusDegrees: numbers[2]))
        case "RANGE":
            guard numbers.count == 4 else { throw SkyError("RANGE requires 4 numbers but got \(numbers.count) in '\(text)'") }
            func lon(_ v: Double) -> Double { v == -.infinity ? 0 : v == .infinity ? 360 : v }
            func lat(_ v: Double) -> Double { v == -.infinity ? -90 : v == .infinity ? 90 : v }
            let p1 = try LonLat(lonDegrees: lon(numbers[0]), latDegrees: lat(numbers[2]))
            let p2 = try LonLat(lonDegrees: lon(numbers[1]), latDegrees: lat(numbers[3]))
            self = .box(Box(p1, p2))
        case "POLYGON":
            guard numbers.count % 2 == 0 else {
                throw SkyError("POLYGON requires an even count of numbers but got \(numbers.count) in '\(text)'")
            }
            guard numbers.count >= 6 else {
                throw SkyError("POLYGON requires at least 3 coordinates, got \(numbers.count / 2) in '\(text)'")
            }
            let pairs = stride(from: 0, to: numbers.count, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
            self = .polygon(try ConvexPolygon(hullOfDegrees: pairs))
        default:
            throw SkyError("unrecognized shape \"\(shape)\" in POS string '\(text)' (CIRCLE, RANGE or POLYGON)")
        }
    }
}

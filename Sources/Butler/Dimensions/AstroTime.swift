import Foundation

/// An instant, held as daf_butler holds it: integer nanoseconds of TAI since
/// 1970-01-01T00:00:00 TAI.
///
/// Text is read as daf_butler's where-language reads a `T'…'` literal (astropy's formats and
/// scales): `[format/]value[/scale]`, the format guessed from the value when absent (a number is
/// `mjd`; `2013-11-02 10:00:00` is `iso`, with a `T` `isot`; `+2013-11-02T10:00:00` is `fits`;
/// `2013:306:10:00:00` is `yday`) and the scale from the format (`utc` for calendar formats and
/// `unix`, `tt` for `cxcsec`, `tai` otherwise). UTC is converted with the leap-second table
/// (and the 1968–1971 drift of UTC against TAI), as ERFA does.
public struct AstroTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds of TAI since 1970-01-01T00:00:00 TAI.
    public let taiNanoseconds: Int64

    /// The instant `taiNanoseconds` after 1970-01-01T00:00:00 TAI.
    public init(taiNanoseconds: Int64) { self.taiNanoseconds = taiNanoseconds }

    /// 1970-01-01T00:00:00 TAI: where stored times begin (daf_butler's `TimeConverter.epoch`).
    public static let epoch = AstroTime(taiNanoseconds: 0)
    /// 2100-01-01T00:00:00 TAI: where stored times end (daf_butler's `TimeConverter.max_time`).
    public static let maximum = AstroTime(taiNanoseconds: 4_102_444_800 * nanosecondsPerSecond)

    public static func < (lhs: AstroTime, rhs: AstroTime) -> Bool { lhs.taiNanoseconds < rhs.taiNanoseconds }

    /// The instant as ISO-8601 TAI with nanoseconds, e.g. `2013-11-02T10:00:00.000000000`.
    public var description: String { isot(scale: .tai) }

    /// The current instant, from the system clock (UTC, converted with the leap-second table).
    public static func now() -> AstroTime {
        // Foundation's clock (to a fraction of a microsecond): C's `timespec` is declared by
        // several modules this one sees (Glibc, CoreFoundation), which the compiler will not
        // pick between.
        let unix = Int64((Date().timeIntervalSince1970 * Double(nanosecondsPerSecond)).rounded())
        let day = floorDivide(unix, secondsPerDay * nanosecondsPerSecond)
        let fraction = Double(unix - day * secondsPerDay * nanosecondsPerSecond) / Double(secondsPerDay * nanosecondsPerSecond)
        return AstroTime(taiNanoseconds: unix + (LeapSeconds.taiMinusUTC(daysSinceEpoch: day, fractionOfDay: fraction) ?? 0))
    }

    // MARK: Reading

    /// Reads `[format/]value[/scale]` as daf_butler reads the body of a `T'…'` literal.
    /// - Throws: ``ButlerError/Code/invalidQuery`` naming the text and what is wrong with it.
    public init(_ text: String) throws {
        var body = text.replacingOccurrences(of: "+00:00", with: "")
        var format: TimeFormat?
        var scale: TimeScale?
        if let slash = body.firstIndex(of: "/"), let named = TimeFormat(rawValue: body[..<slash].lowercased()) {
            format = named
            body = String(body[body.index(after: slash)...])
        } else if let slash = body.firstIndex(of: "/"), body[..<slash].allSatisfy({ $0.isLetter || $0 == "_" }) {
            throw Self.failure(text, "unknown time format \"\(body[..<slash])\"")
        }
        if let slash = body.lastIndex(of: "/") {
            let name = body[body.index(after: slash)...].lowercased()
            guard let named = TimeScale(rawValue: name) else { throw Self.failure(text, "unknown time scale \"\(name)\"") }
            scale = named
            body = String(body[..<slash])
        }
        try self.init(value: body, format: format, scale: scale, text: text)
    }

    /// Reads `value` in `format` and `scale` (each guessed as for a `T'…'` literal when nil).
    public init(value: String, format: TimeFormat? = nil, scale: TimeScale? = nil) throws {
        try self.init(value: value, format: format, scale: scale, text: value)
    }

    private init(value: String, format: TimeFormat?, scale: TimeScale?, text: String) throws {
        let shape = Self.shape(of: value)
        guard let shape else { throw Self.failure(text, "it matches no known time format") }
        let format = format ?? shape.guessedFormat
        let scale = scale ?? format.defaultScale
        guard format.accepts(shape) else { throw Self.failure(text, "it does not match format \"\(format.rawValue)\"") }
        switch format {
        case .iso, .isot, .fits, .yday:
            guard let civil = CivilTime(parsing: value, format: format) else {
                throw Self.failure(text, "it is not a valid \(format.rawValue) time")
            }
            self = try Self.instant(civil, scale: scale, text: text)
        case .mjd, .jd:
            guard let days = Decimal(string: value) else { throw Self.failure(text, "it is not a number") }
            let mjd = format == .jd ? days - Decimal(string: "2400000.5")! : days
            self = try Self.instant(mjd: mjd, scale: scale, text: text)
        case .unix, .unixTai, .gps, .cxcsec:
            guard let seconds = Decimal(string: value) else { throw Self.failure(text, "it is not a number") }
            self = try Self.instant(seconds: seconds, since: format, scale: scale, text: text)
        }
    }

    /// The instant of a calendar date and time in `scale`.
    private static func instant(_ civil: CivilTime, scale: TimeScale, text: String) throws -> AstroTime {
        let days = Int64(CivilTime.daysSinceEpoch(year: civil.year, month: civil.month, day: civil.day))
        let label =
            (days * secondsPerDay + Int64(civil.hour * 3600 + civil.minute * 60 + civil.second)) * nanosecondsPerSecond + civil.nanosecond
        switch scale {
        case .tai: return AstroTime(taiNanoseconds: label)
        case .tt: return AstroTime(taiNanoseconds: label - ttMinusTAI)
        case .utc:
            // Second 60 on a day without a leap second is the next minute's first, as ERFA
            // (and so astropy) reads it, with a warning.
            let fraction = Double(label - days * secondsPerDay * nanosecondsPerSecond) / Double(secondsPerDay * nanosecondsPerSecond)
            guard let offset = LeapSeconds.taiMinusUTC(daysSinceEpoch: days, fractionOfDay: fraction) else {
                throw failure(text, "UTC before 1968-02-01 is not supported")
            }
            return AstroTime(taiNanoseconds: label + offset)
        }
    }

    /// The instant of a modified Julian date in `scale`.
    private static func instant(mjd: Decimal, scale: TimeScale, text: String) throws -> AstroTime {
        var value = mjd
        var dayNumber = Decimal()
        NSDecimalRound(&dayNumber, &value, 0, .down)
        let fraction = mjd - dayNumber
        let days = NSDecimalNumber(decimal: dayNumber).int64Value - mjdOfEpoch
        switch scale {
        case .tai, .tt:
            let nanoseconds = Self.nanoseconds(of: fraction * Decimal(secondsPerDay))
            let label = days * secondsPerDay * nanosecondsPerSecond + nanoseconds
            return AstroTime(taiNanoseconds: scale == .tt ? label - ttMinusTAI : label)
        case .utc:
            // A UTC day that ends with a leap second is 86401 s long (ERFA's convention).
            let length = LeapSeconds.endsWithLeapSecond(daysSinceEpoch: days) ? secondsPerDay + 1 : secondsPerDay
            let nanoseconds = Self.nanoseconds(of: fraction * Decimal(length))
            var civil = CivilTime(daysSinceEpoch: days)
            civil.hour = Int(nanoseconds / (3600 * nanosecondsPerSecond))
            let rest = nanoseconds - Int64(civil.hour) * 3600 * nanosecondsPerSecond
            civil.minute = min(59, Int(rest / (60 * nanosecondsPerSecond)))
            let seconds = rest - Int64(civil.minute) * 60 * nanosecondsPerSecond
            civil.second = Int(seconds / nanosecondsPerSecond)
            civil.nanosecond = seconds % nanosecondsPerSecond
            return try instant(civil, scale: .utc, text: text)
        }
    }

    /// The instant `seconds` after the epoch of a counting format.
    private static func instant(seconds: Decimal, since format: TimeFormat, scale: TimeScale, text: String) throws -> AstroTime {
        let nanoseconds = Self.nanoseconds(of: seconds)
        switch format {
        case .unix:
            // Days of 86400 s since 1970-01-01 UTC, each day's fraction then read as a UTC MJD
            // fraction, as astropy does: on a day ending with a leap second the seconds stretch.
            return try instant(mjd: Decimal(mjdOfEpoch) + seconds / Decimal(secondsPerDay), scale: .utc, text: text)
        case .unixTai: return AstroTime(taiNanoseconds: nanoseconds)
        case .gps: return AstroTime(taiNanoseconds: nanoseconds + (3657 * secondsPerDay + 19) * nanosecondsPerSecond)
        case .cxcsec: return AstroTime(taiNanoseconds: nanoseconds + 10_227 * secondsPerDay * nanosecondsPerSecond - ttMinusTAI)
        default: throw failure(text, "format \(format.rawValue) counts no seconds")
        }
    }

    private static func nanoseconds(of seconds: Decimal) -> Int64 {
        var scaled = seconds * Decimal(nanosecondsPerSecond)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    private static func failure(_ text: String, _ reason: String) -> ButlerError {
        ButlerError(.invalidQuery, "time \"\(text)\" cannot be read: \(reason)")
    }

    // MARK: Writing

    /// The instant as ISO-8601 (`2013-11-02T10:00:00.000000000`) in `scale`, with
    /// `fractionDigits` digits of the second (0 for none).
    public func isot(scale: TimeScale = .tai, fractionDigits: Int = 9) -> String {
        let civil = self.civil(scale: scale)
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second)
        if fractionDigits > 0 {
            let digits = min(fractionDigits, 9)
            var fraction = civil.nanosecond
            for _ in digits..<9 { fraction /= 10 }
            text += "." + String(format: "%0\(digits)lld", fraction)
        }
        return text
    }

    /// The modified Julian date of the instant in `scale`.
    public func mjd(scale: TimeScale = .tai) -> Double {
        switch scale {
        case .tai: return Double(mjdOfEpoch) + Double(taiNanoseconds) / Double(secondsPerDay * nanosecondsPerSecond)
        case .tt: return Double(mjdOfEpoch) + Double(taiNanoseconds + ttMinusTAI) / Double(secondsPerDay * nanosecondsPerSecond)
        case .utc:
            let civil = self.civil(scale: .utc)
            let days = Int64(CivilTime.daysSinceEpoch(year: civil.year, month: civil.month, day: civil.day))
            let length = LeapSeconds.endsWithLeapSecond(daysSinceEpoch: days) ? secondsPerDay + 1 : secondsPerDay
            let ofDay = Int64(civil.hour * 3600 + civil.minute * 60 + civil.second) * nanosecondsPerSecond + civil.nanosecond
            return Double(mjdOfEpoch + days) + Double(ofDay) / Double(length * nanosecondsPerSecond)
        }
    }

    /// The calendar date and time of the instant in `scale`.
    func civil(scale: TimeScale) -> CivilTime {
        switch scale {
        case .tai: return CivilTime(label: taiNanoseconds)
        case .tt: return CivilTime(label: taiNanoseconds + ttMinusTAI)
        case .utc:
            // TAI − UTC at the instant: the offset of the UTC day it falls in, found by trying
            // the day its TAI label suggests and the one before.
            let days = floorDivide(taiNanoseconds, secondsPerDay * nanosecondsPerSecond)
            for day in [days, days - 1] {
                let start = day * secondsPerDay * nanosecondsPerSecond
                guard let offsetAtStart = LeapSeconds.taiMinusUTC(daysSinceEpoch: day, fractionOfDay: 0) else { continue }
                let label = taiNanoseconds - offsetAtStart
                guard label >= start else { continue }
                let ofDay = label - start
                let leap = LeapSeconds.endsWithLeapSecond(daysSinceEpoch: day)
                guard ofDay < (secondsPerDay + (leap ? 1 : 0)) * nanosecondsPerSecond else { continue }
                // Inside the 1968–1971 drift the offset grows through the day.
                let fraction = Double(ofDay) / Double(secondsPerDay * nanosecondsPerSecond)
                let offset = LeapSeconds.taiMinusUTC(daysSinceEpoch: day, fractionOfDay: fraction) ?? offsetAtStart
                var civil = CivilTime(label: taiNanoseconds - offset)
                if leap, ofDay >= secondsPerDay * nanosecondsPerSecond {
                    // 23:59:60.x of a day ending with a leap second.
                    civil = CivilTime(daysSinceEpoch: day)
                    civil.hour = 23
                    civil.minute = 59
                    civil.second = 60
                    civil.nanosecond = (ofDay - secondsPerDay * nanosecondsPerSecond) % nanosecondsPerSecond
                }
                return civil
            }
            return CivilTime(label: taiNanoseconds)
        }
    }
}

/// A time scale of astropy's that the Butler converts exactly.
public enum TimeScale: String, Sendable, CaseIterable {
    /// International Atomic Time: what the registry stores.
    case tai
    /// Coordinated Universal Time, with leap seconds.
    case utc
    /// Terrestrial Time: TAI + 32.184 s.
    case tt
}

/// A time format of astropy's, as named in a `T'format/value'` literal.
public enum TimeFormat: String, Sendable, CaseIterable {
    /// `2013-11-02 10:00:00.5`
    case iso
    /// `2013-11-02T10:00:00.5`
    case isot
    /// `2013-11-02T10:00:00.5` (FITS style; a year may carry a sign)
    case fits
    /// `2013:306:10:00:00.5` (year, day of year, time)
    case yday
    /// Modified Julian date.
    case mjd
    /// Julian date.
    case jd
    /// POSIX seconds since 1970-01-01T00:00:00 UTC (days of 86400 s, as astropy counts them).
    case unix
    /// TAI seconds since 1970-01-01T00:00:00 TAI.
    case unixTai = "unix_tai"
    /// GPS seconds since 1980-01-06T00:00:19 TAI.
    case gps
    /// Chandra seconds since 1998-01-01T00:00:00 TT.
    case cxcsec

    /// The scale a value in this format is in when none is named (daf_butler's rule).
    var defaultScale: TimeScale {
        switch self {
        case .iso, .isot, .fits, .yday, .unix: return .utc
        case .cxcsec: return .tt
        default: return .tai
        }
    }

    func accepts(_ shape: AstroTime.Shape) -> Bool {
        switch self {
        case .iso: return shape == .date || shape == .iso
        case .isot: return shape == .date || shape == .isoT
        case .fits: return shape == .date || shape == .isoT || shape == .fits
        case .yday: return shape == .yday
        case .mjd, .jd, .unix, .unixTai, .gps, .cxcsec: return shape == .number
        }
    }
}

extension AstroTime {
    /// What a value looks like, as daf_butler's parser classifies it before guessing a format.
    enum Shape: Equatable {
        case number, date, iso, isoT, fits, yday

        var guessedFormat: TimeFormat {
            switch self {
            case .number: return .mjd
            case .date, .iso: return .iso
            case .isoT: return .isot
            case .fits: return .fits
            case .yday: return .yday
            }
        }
    }

    /// The shape of a value, by daf_butler's patterns: `-?(\d+(\.\d*)|(\.\d+))` (a number needs a
    /// decimal point), `\d+-\d+-\d+([ T]\d+:\d+(:\d+([.]\d*)?)?)?`,
    /// `[+]\d+-\d+-\d+(T\d+:\d+:\d+([.]\d*)?)?` and `\d+:\d+(:\d+:\d+(:\d+([.]\d*)?)?)?`.
    static func shape(of value: String) -> Shape? {
        let scalars = Array(value.unicodeScalars)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
            return index - start
        }
        func take(_ character: Unicode.Scalar) -> Bool {
            guard index < scalars.count, scalars[index] == character else { return false }
            index += 1
            return true
        }
        var atEnd: Bool { index == scalars.count }
        // A number.
        index = 0
        _ = take("-")
        let whole = digits()
        if take("."), whole > 0 || digits() > 0 {
            _ = digits()
            if atEnd { return .number }
        }
        // A calendar date, ISO or FITS.
        index = 0
        let signed = take("+")
        if digits() > 0, take("-"), digits() > 0, take("-"), digits() > 0 {
            if atEnd { return signed ? .fits : .date }
            let separator = index < scalars.count ? scalars[index] : " "
            let isT = separator == "T" || separator == "t"
            if (separator == " " && !signed) || isT {
                index += 1
                if digits() > 0, take(":"), digits() > 0 {
                    if atEnd && !signed { return isT ? .isoT : .iso }
                    if take(":"), digits() > 0 {
                        if take(".") { _ = digits() }
                        if atEnd { return signed ? .fits : isT ? .isoT : .iso }
                    }
                }
            }
        }
        // Year and day of year.
        index = 0
        if digits() > 0, take(":"), digits() > 0 {
            if atEnd { return .yday }
            if take(":"), digits() > 0, take(":"), digits() > 0 {
                if atEnd { return .yday }
                if take(":"), digits() > 0 {
                    if take(".") { _ = digits() }
                    if atEnd { return .yday }
                }
            }
        }
        return nil
    }
}

/// A calendar date and time of day, in whatever scale it was read or is written in.
struct CivilTime: Equatable {
    var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0
    var nanosecond: Int64 = 0

    init(daysSinceEpoch days: Int64) {
        (year, month, day) = Self.civil(daysSinceEpoch: days)
    }

    /// The calendar reading of a uniform count of nanoseconds since 1970-01-01T00:00:00.
    init(label: Int64) {
        let days = floorDivide(label, secondsPerDay * nanosecondsPerSecond)
        self.init(daysSinceEpoch: days)
        let ofDay = label - days * secondsPerDay * nanosecondsPerSecond
        hour = Int(ofDay / (3600 * nanosecondsPerSecond))
        minute = Int(ofDay / (60 * nanosecondsPerSecond) % 60)
        second = Int(ofDay / nanosecondsPerSecond % 60)
        nanosecond = ofDay % nanosecondsPerSecond
    }

    /// Reads the calendar formats (already checked against their shape).
    init?(parsing value: String, format: TimeFormat) {
        var text = Substring(value)
        if format == .yday {
            let fields = text.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2 || fields.count >= 4, fields[0].count == 4, let year = Int(fields[0]), let dayOfYear = Int(fields[1])
            else { return nil }
            let leapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            guard (1...(leapYear ? 366 : 365)).contains(dayOfYear) else { return nil }
            let days = Int64(Self.daysSinceEpoch(year: year, month: 1, day: 1) + dayOfYear - 1)
            self.init(daysSinceEpoch: days)
            guard fields.count == 2 || setTime(fields[2...].joined(separator: ":")) else { return nil }
            return
        }
        // astropy's field widths: a four-digit year (FITS: or a sign and five digits); FITS
        // fields two digits each, with seconds whenever there is a time; `T` upper case.
        let signed = text.hasPrefix("+") || text.hasPrefix("-")
        if signed { text = text.dropFirst() }
        let separator: Character = format == .iso ? " " : "T"
        let dateAndTime = text.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
        let date = dateAndTime[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == (signed ? 5 : 4), !signed || format == .fits,
            format != .fits || (date[1].count == 2 && date[2].count == 2),
            let year = Int(date[0]), let month = Int(date[1]), let day = Int(date[2]),
            (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        if format == .fits, dateAndTime.count == 2 {
            let fields = dateAndTime[1].split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields.allSatisfy({ $0.prefix(while: \.isNumber).count == 2 }) else { return nil }
        }
        self.init(daysSinceEpoch: Int64(Self.daysSinceEpoch(year: year, month: month, day: day)))
        if dateAndTime.count == 2 {
            guard setTime(String(dateAndTime[1])) else { return nil }
        }
    }

    /// Sets `HH:MM[:SS[.fff…]]`.
    private mutating func setTime(_ text: String) -> Bool {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), let hour = Int(fields[0]), let minute = Int(fields[1]), hour < 24, minute < 60 else {
            return false
        }
        (self.hour, self.minute) = (hour, minute)
        if fields.count == 3 {
            let parts = fields[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let second = Int(parts[0]), second <= 60 else { return false }
            self.second = second
            if parts.count == 2 {
                var digits = String(parts[1].prefix(10))
                guard digits.allSatisfy(\.isNumber) else { return false }
                // Nanoseconds, rounded half up from a tenth digit.
                while digits.count < 10 { digits += "0" }
                nanosecond = (Int64(digits)! + 5) / 10
                if nanosecond == nanosecondsPerSecond {
                    nanosecond = 0
                    self.second += 1
                }
            }
        }
        return true
    }

    static func daysIn(month: Int, year: Int) -> Int {
        let leapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
    static func civil(daysSinceEpoch days: Int64) -> (Int, Int, Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// TAI − UTC, as ERFA's `eraDat` tabulates it (from 1968-02-01, where the last drifting
/// definition of UTC began; integral leap seconds from 1972).
enum LeapSeconds {
    /// (days since 1970-01-01 of the first UTC day, TAI − UTC in seconds from that day on).
    static let steps: [(day: Int64, seconds: Int64)] = [
        (1972, 1), (1972, 7), (1973, 1), (1974, 1), (1975, 1), (1976, 1), (1977, 1), (1978, 1), (1979, 1), (1980, 1),
        (1981, 7), (1982, 7), (1983, 7), (1985, 7), (1988, 1), (1990, 1), (1991, 1), (1992, 7), (1993, 7), (1994, 7),
        (1996, 1), (1997, 7), (1999, 1), (2006, 1), (2009, 1), (2012, 7), (2015, 7), (2017, 1),
    ].enumerated().map { index, date in
        (Int64(CivilTime.daysSinceEpoch(year: date.0, month: date.1, day: 1)), Int64(10 + index))
    }
    /// 1968-02-01, the first day of the drift rule below.
    static let driftStart = Int64(CivilTime.daysSinceEpoch(year: 1968, month: 2, day: 1))

    /// TAI − UTC in nanoseconds during a UTC day (and fraction of it); nil before 1968-02-01.
    static func taiMinusUTC(daysSinceEpoch day: Int64, fractionOfDay: Double) -> Int64? {
        if let step = steps.last(where: { $0.day <= day }) { return step.seconds * nanosecondsPerSecond }
        guard day >= driftStart else { return nil }
        // 4.2131700 s + (MJD − 39126) × 0.002592 s, MJD counted in UTC days.
        let mjd = Double(day + mjdOfEpoch) + fractionOfDay
        return Int64(((4.2131700 + (mjd - 39126) * 0.002592) * 1e9).rounded())
    }

    /// True for a UTC day whose last minute has 61 seconds.
    static func endsWithLeapSecond(daysSinceEpoch day: Int64) -> Bool {
        steps.contains { $0.day == day + 1 }
    }
}

let nanosecondsPerSecond: Int64 = 1_000_000_000
let secondsPerDay: Int64 = 86_400
/// MJD 40587 is 1970-01-01.
let mjdOfEpoch: Int64 = 40_587
/// TT − TAI, exactly 32.184 s.
let ttMinusTAI: Int64 = 32_184_000_000

/// Division rounding toward negative infinity.
func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return value % divisor < 0 ? quotient - 1 : quotient
}

import Butler
import ButlerTestSupport
import Foundation
import Testing

/// Times and timespans, checked against astropy (what daf_butler converts times with).
@Suite("Times and timespans")
struct TimeTests {
    /// Values in every format and scale, around every leap second, in the 1968–1971 drift of
    /// UTC, and at the ends of the stored range.
    static let cases: [(String, TimeFormat, TimeScale)] = {
        var cases: [(String, TimeFormat, TimeScale)] = [
            ("2013-11-02 10:00:00", .iso, .utc), ("2013-11-02T10:00:00.123456789", .isot, .utc),
            ("2013-11-02T10:00:00.5", .isot, .tai), ("2013-11-02T10:00:00", .isot, .tt), ("2013-11-02", .iso, .utc),
            ("2013-11-02 10:00", .iso, .utc), ("2016-12-31T23:59:60.5", .isot, .utc), ("2015-12-31T23:59:60", .isot, .utc),
            ("2016-12-31T23:59:59.999999999", .isot, .utc),
            ("2017-01-01T00:00:00", .isot, .utc), ("1970-01-01T00:00:00", .isot, .utc), ("1970-06-15T12:34:56.789", .isot, .utc),
            ("1971-12-31T23:59:59", .isot, .utc), ("1972-01-01T00:00:00", .isot, .utc), ("2099-12-31T23:59:59", .isot, .tai),
            ("2000-01-01T12:00:00", .fits, .utc), ("+02000-01-01T12:00:00.25", .fits, .utc), ("+2000-01-01T12:00:00.25", .fits, .utc),
            ("2000-01-01T12:00", .fits, .utc), ("2013-1-2 3:04:05", .iso, .utc), ("13-11-02", .iso, .utc),
            ("2013-11-02t10:00:00", .isot, .utc), ("2013:306:10:00", .yday, .utc), ("2013:306:10:00:00.5", .yday, .utc),
            ("2016:366:23:59:60", .yday, .utc), ("2013:306", .yday, .tai),
            ("58000.5", .mjd, .tai), ("58000.123456789", .mjd, .tai), ("56598.41666666666", .mjd, .utc), ("57753.99", .mjd, .utc),
            ("41000.25", .mjd, .utc), ("58000.5", .mjd, .tt), ("2456598.9166666667", .jd, .tai), ("2456598.9166666667", .jd, .utc),
            ("1383386400.0", .unix, .utc), ("1483228799.5", .unix, .utc), ("1383386435.25", .unixTai, .tai),
            ("1067385618.0", .gps, .tai), ("499773600.0", .cxcsec, .tt),
        ]
        // The first second of every UTC day with a new TAI − UTC, and the second before it.
        for (year, month) in [(1972, 7), (1981, 7), (1985, 7), (1999, 1), (2006, 1), (2012, 7), (2015, 7)] {
            let date = String(format: "%04d-%02d-01", year, month)
            cases.append(("\(date)T00:00:00", .isot, .utc))
            cases.append(("\(date)T00:00:00", .isot, .tai))
        }
        return cases
    }()

    /// Stored values to render back, around leap seconds and in the drift.
    static let rendered: [Int64] = [
        0, 1, 8_000_082_000, 15_000_000_000_000_000, 63_072_010_000_000_000, 1_383_386_435_000_000_000,
        1_483_228_836_000_000_000, 1_483_228_836_500_000_000, 1_483_228_837_000_000_000, 1_483_228_835_999_999_999,
        4_102_444_799_999_999_999,
    ]

    @Test("every format and scale converts to TAI nanoseconds as astropy converts it, and back")
    func againstAstropy() throws {
        let request: [String: Any] = [
            "parse": Self.cases.map { [$0.0, $0.1.rawValue, $0.2.rawValue] }, "render": Self.rendered,
        ]
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/check_times.py")
        let result = try runPython([script.path], input: try JSONSerialization.data(withJSONObject: request))
        try #require(result.status == 0, "\(result.output)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [Any]])
        for (index, (value, format, scale)) in Self.cases.enumerated() {
            let expected = answer["parse"]![index] as? Int64
            let ours = try? AstroTime(value: value, format: format, scale: scale)
            // daf_butler hands astropy a number as a double: an MJD near 60000 is exact to
            // 0.6 µs, a JD near 2.4 million to 40 µs, a unix time to 0.2 µs (we read the decimal
            // digits exactly); whole-second and calendar values agree to the nanosecond.
            let tolerance: Int64 = format == .jd ? 50_000 : format == .mjd || format == .unix ? 1000 : 0
            #expect(
                (expected == nil && ours == nil) || (expected != nil && ours != nil && abs(ours!.taiNanoseconds - expected!) <= tolerance),
                "\(format.rawValue)/\(value)/\(scale.rawValue): astropy \(expected.map(String.init) ?? "refuses"), ours \(ours.map { String($0.taiNanoseconds) } ?? "refuses")"
            )
        }
        for (index, nanoseconds) in Self.rendered.enumerated() {
            let expected = try #require(answer["render"]![index] as? [Any])
            let time = AstroTime(taiNanoseconds: nanoseconds)
            // In the 1968–1971 drift TAI − UTC is a product of doubles in ERFA too: ±1 ns.
            let drift = nanoseconds < 63_072_010_000_000_000
            let utc = try AstroTime(value: try #require(expected[0] as? String), format: .isot, scale: .utc)
            #expect(
                drift ? abs(utc.taiNanoseconds - nanoseconds) <= 1 : time.isot(scale: .utc) == expected[0] as? String,
                "UTC of \(nanoseconds): astropy \(expected[0]), ours \(time.isot(scale: .utc))")
            #expect(time.isot(scale: .tai) == expected[1] as? String, "TAI of \(nanoseconds)")
            #expect(abs(time.mjd(scale: .utc) - (expected[2] as! Double)) < 1e-10, "UTC MJD of \(nanoseconds)")
            #expect(abs(time.mjd(scale: .tai) - (expected[3] as! Double)) < 1e-10, "TAI MJD of \(nanoseconds)")
            // What is rendered reads back to the same instant.
            let back = try AstroTime(value: time.isot(scale: .utc), format: .isot, scale: .utc)
            #expect(abs(back.taiNanoseconds - nanoseconds) <= (drift ? 1 : 0), "\(time.isot(scale: .utc)) reads back")
        }
    }

    @Test("a T'…' body guesses format and scale as daf_butler does, and says what is wrong")
    func literalBodies() throws {
        // ISO without a scale is UTC; a number is a TAI MJD.
        #expect(try AstroTime("2013-11-02T10:00:00") == AstroTime(value: "2013-11-02T10:00:00", format: .isot, scale: .utc))
        #expect(try AstroTime("2013-11-02 10:00:00/tai").taiNanoseconds == 1_383_386_400_000_000_000)
        #expect(try AstroTime("58000.5") == AstroTime(value: "58000.5", format: .mjd, scale: .tai))
        #expect(try AstroTime("mjd/58000.5/utc") == AstroTime(value: "58000.5", format: .mjd, scale: .utc))
        #expect(try AstroTime("unix/1383386400.0") == AstroTime("2013-11-02T10:00:00"))
        #expect(try AstroTime("2013-11-02T10:00:00+00:00") == AstroTime("2013-11-02T10:00:00"))
        // Second 60 of a minute without a leap second is the next minute (ERFA's reading).
        #expect(try AstroTime("2013-11-02T10:00:60") == AstroTime("2013-11-02T10:01:00"))
        for (text, reason) in [
            ("2013-11-02T10:00:00/martian", "unknown time scale"), ("decade/2013", "unknown time format"),
            ("58000", "matches no known time format"), ("2013-13-02", "not a valid iso time"),

            ("iso/2013-11-02T10:00:00", "does not match format"), ("1960-01-01T00:00:00", "UTC before 1968-02-01"),
        ] {
            let error = #expect(throws: ButlerError.self, "\(text)") { try AstroTime(text) }
            #expect(error?.code == .invalidQuery)
            #expect("\(error!)".contains(text) && "\(error!)".contains(reason), "\(error!)")
        }
    }

    @Test("timespans: half-open, clamped, one empty value, daf_butler's overlaps, contains, intersection and difference")
    func timespans() throws {
        let t = { (text: String) in try AstroTime("\(text)/tai") }
        let night = try Timespan(begin: t("2013-11-02T00:00:00"), end: t("2013-11-03T00:00:00"))
        #expect(night == (try Timespan.dayObs(20131102)))
        #expect(night.description == "[2013-11-02T00:00:00, 2013-11-03T00:00:00)")
        #expect(try Timespan.dayObs(20240229, offset: 12 * 3600).description == "[2024-02-29T12:00:00, 2024-03-01T12:00:00)")
        let (midnight, nextMidnight) = (try t("2013-11-02T00:00:00"), try t("2013-11-03T00:00:00"))
        #expect(night.contains(midnight) && !night.contains(nextMidnight))
        let evening = try Timespan(begin: t("2013-11-02T18:00:00"), end: nil)
        #expect(evening.end == nil && evening.description == "[2013-11-02T18:00:00, ∞)")
        #expect(night.overlaps(evening) && night.intersection(evening).description == "[2013-11-02T18:00:00, 2013-11-03T00:00:00)")
        #expect(night.difference(evening) == [try Timespan(begin: t("2013-11-02T00:00:00"), end: t("2013-11-02T18:00:00"))])
        let middle = try Timespan(begin: t("2013-11-02T06:00:00"), end: t("2013-11-02T07:00:00"))
        #expect(
            night.difference(middle).map(\.description) == [
                "[2013-11-02T00:00:00, 2013-11-02T06:00:00)", "[2013-11-02T07:00:00, 2013-11-03T00:00:00)",
            ])
        #expect(night.contains(middle) && !middle.contains(night) && night.difference(night).isEmpty)
        // Touching is not overlapping ([a, b) and [b, c)); empty overlaps nothing.
        let next = try Timespan(begin: t("2013-11-03T00:00:00"), end: t("2013-11-04T00:00:00"))
        #expect(!night.overlaps(next) && night.intersection(next) == .empty)
        #expect(!Timespan.empty.overlaps(.unbounded) && Timespan.unbounded.contains(.empty) && Timespan.empty.description == "(empty)")
        #expect(try Timespan(begin: t("2013-11-03T00:00:00"), end: t("2013-11-02T00:00:00")) == .empty)
        // An instant is one nanosecond long; before 1970 and after 2100 are clamped.
        let instant = try Timespan.instant(try t("2013-11-02T10:00:00"))
        #expect(instant.endNanoseconds - instant.beginNanoseconds == 1)
        #expect(try Timespan(begin: t("1969-06-01T00:00:00"), end: nil) == .unbounded)
        #expect(throws: ButlerError.self) { try Timespan(begin: nil, end: AstroTime.epoch) }
        #expect(throws: ButlerError.self) { try Timespan.dayObs(19691231) }
        // JSON as daf_butler serialises it: the two bounds in nanoseconds.
        let json = try JSONEncoder().encode(night)
        #expect(String(decoding: json, as: UTF8.self) == "[\(night.beginNanoseconds),\(night.endNanoseconds)]")
        #expect(try JSONDecoder().decode(Timespan.self, from: json) == night)
    }
}

import Butler
import Foundation
import Testing

@Suite("Dimension universe and data IDs")
struct DimensionTests {
    let universe = try! DimensionUniverse.defaultUniverse(aliases: ["ccdnum": "detector"])

    @Test("the default universe follows daf_butler v8")
    func defaultUniverse() throws {
        #expect(universe.namespace == "daf_butler")
        #expect(universe.version == 8)
        for name in [
            "instrument", "band", "physical_filter", "detector", "day_obs", "group", "exposure", "visit",
            "visit_detector_region", "skymap", "tract", "patch", "htm7", "healpix10",
        ] {
            #expect(universe.elements[name] != nil, "missing \(name)")
        }
        #expect(universe.elements["visit"]!.implies == ["physical_filter", "day_obs"])
        #expect(universe.elements["physical_filter"]!.implies == ["band"])
        #expect(universe.elements["visit"]!.metadata.contains { $0.name == "exposure_time" })
        #expect(universe.elements["visit"]!.hasTimespan)
        #expect(universe.elements["visit_detector_region"]!.isDimension == false)
    }

    @Test("groups add required and implied dimensions")
    func groups() throws {
        let group = try universe.group(["visit", "detector"])
        #expect(group.required == ["instrument", "detector", "visit"])
        #expect(Set(group.implied) == ["band", "physical_filter", "day_obs"])
        #expect(try universe.group(["patch"]).required == ["skymap", "tract", "patch"])
    }

    @Test("standardize converts types and resolves aliases")
    func standardize() throws {
        let group = try universe.group(["visit", "detector"])
        let coordinate = try universe.standardize(["instrument": "HSC", "visit": "42", "ccdnum": 7], for: group)
        #expect(coordinate["visit"] == .int(42))
        #expect(coordinate["detector"] == .int(7))
        #expect(coordinate.description == "{instrument: HSC, detector: 7, visit: 42}")
    }

    @Test("errors name the missing or unknown key and the bad value")
    func errors() throws {
        let group = try universe.group(["visit", "detector"])
        let missing = #expect(throws: ButlerError.self) {
            try universe.standardize(["instrument": "HSC", "visit": 42], for: group)
        }
        #expect("\(missing!)".contains("missing required dimension 'detector'"))
        let unknown = #expect(throws: ButlerError.self) {
            try universe.standardize(["instrument": "HSC", "visit": 42, "detector": 1, "ccd": 3], for: group)
        }
        #expect("\(unknown!)".contains("unknown dimension 'ccd'"))
        let badValue = #expect(throws: ButlerError.self) {
            try universe.standardize(["instrument": "HSC", "visit": "forty-two", "detector": 1], for: group)
        }
        #expect("\(badValue!)".contains("'visit' takes an integer, got 'forty-two'"))
        let unrelated = #expect(throws: ButlerError.self) {
            try universe.standardize(["instrument": "HSC", "visit": 1, "detector": 1, "tract": 3], for: group)
        }
        #expect("\(unrelated!)".contains("'tract' is not one of the dimensions"))
    }

    @Test("a universe whose element depends on an undefined one is rejected")
    func badUniverse() throws {
        let yaml = """
            namespace: test
            version: 1
            elements:
              visit:
                requires: [instrument]
                keys: [{name: id, type: int}]
            """
        let error = #expect(throws: ButlerError.self) { try DimensionUniverse(yaml: yaml) }
        #expect("\(error!)".contains("'visit' depends on 'instrument'"))
    }

    @Test("where-expressions parse with precedence and report positions")
    func whereParsing() throws {
        let expression = try QueryExpression.parse("instrument = 'HSC' AND visit IN (1, 2) OR NOT detector != -3")
        #expect(expression.description == "(instrument = 'HSC' AND visit IN (1, 2)) OR NOT detector != -3")
        let error = #expect(throws: ButlerError.self) { try QueryExpression.parse("visit = = 3") }
        #expect("\(error!)".contains("position 9"))
        #expect(throws: ButlerError.self) { try QueryExpression.parse("visit = 'open") }
    }
}

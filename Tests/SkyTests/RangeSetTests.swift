import ButlerTestSupport
import Foundation
import Sky
import Testing

/// RangeSet against lsst-sphgeom's, run in the test: random sets with values near 0, near 2⁶⁴
/// and on powers of two, wrapping and full ranges, every set operation and simplification.
@Suite("RangeSet against lsst-sphgeom")
struct RangeSetTests {
    struct Case: Decodable {
        let a: [[UInt64]]
        let b: [[UInt64]]
        let n: Int
        let aRanges: [[UInt64]]
        let union: [[UInt64]]
        let intersection: [[UInt64]]
        let difference: [[UInt64]]
        let symmetric: [[UInt64]]
        let complement: [[UInt64]]
        let simplified: [[UInt64]]
        let cardinality: UInt64
    }

    @Test("2000 random cases: ranges, union, intersection, difference, symmetric difference, complement, simplify, cardinality")
    func agreesWithSphgeom() throws {
        let output = try ReferencePython.run("sky_ranges.py", ["2000", "7"])
        let cases = try output.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Case.self, from: Data($0)) }
        #expect(cases.count == 2000)
        func listed(_ set: RangeSet) -> [[UInt64]] { set.ranges.map { [$0.0, $0.1] } }
        var disagreements: [String] = []
        for item in cases {
            let a = RangeSet(item.a.map { ($0[0], $0[1]) })
            let b = RangeSet(item.b.map { ($0[0], $0[1]) })
            let checks: [(String, [[UInt64]], [[UInt64]])] = [
                ("ranges", listed(a), item.aRanges), ("union", listed(a.union(b)), item.union),
                ("intersection", listed(a.intersection(b)), item.intersection),
                ("difference", listed(a.difference(b)), item.difference),
                ("symmetric", listed(a.symmetricDifference(b)), item.symmetric),
                ("complement", listed(a.complement), item.complement),
                ("simplified(\(item.n))", listed(a.simplified(item.n)), item.simplified),
            ]
            for (name, ours, theirs) in checks where ours != theirs {
                disagreements.append("\(name) of \(item.a) and \(item.b): \(ours) against \(theirs)")
            }
            if a.cardinality != item.cardinality {
                disagreements.append("cardinality of \(item.a): \(a.cardinality) against \(item.cardinality)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(5))")
    }

    @Test("membership, containment and the wrap-around conventions")
    func conventions() {
        let wrapped = RangeSet([(UInt64.max - 1, 2)])
        #expect(wrapped.contains(UInt64.max) && wrapped.contains(0) && wrapped.contains(1) && !wrapped.contains(2))
        #expect(wrapped.cardinality == 4)
        #expect(RangeSet([(5, 5)]).isFull && RangeSet().isEmpty && RangeSet.full.complement.isEmpty)
        #expect(RangeSet([(0, 10)]).contains(RangeSet([(2, 4)])) && !RangeSet([(0, 10)]).contains(RangeSet([(8, 12)])))
        #expect(RangeSet([(0, 10)]).intersects(RangeSet(value: 9)) && !RangeSet([(0, 10)]).intersects(RangeSet(value: 10)))
        var set = RangeSet([(0, 100)])
        set.erase(10, 20)
        #expect(set.ranges.map { [$0.0, $0.1] } == [[0, 10], [20, 100]])
    }
}

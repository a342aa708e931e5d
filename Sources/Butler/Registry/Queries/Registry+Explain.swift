import Composites
import Foundation

/// Why a query came back empty, as sentences: what the registry lacks (a dataset type's
/// datasets in the collections, a dimension value's record) and which terms of the
/// where-expression each match nothing alone — or that each matches but not all together.
extension Registry {
    /// The top-level `AND` terms of an expression.
    static func conjuncts(_ expression: QueryExpression?) -> [QueryExpression] {
        guard let expression else { return [] }
        if case .and(let lhs, let rhs) = expression { return conjuncts(lhs) + conjuncts(rhs) }
        return [expression]
    }

    /// Reasons for the empty result of `run` over `predicate`: each term run alone, and
    /// dimension values named by `dimension = value` terms that have no record.
    func explainEmpty(
        _ session: any SQLSession, predicate: QueryExpression?, matchesSomething run: (QueryExpression?) throws -> Bool
    ) throws -> [String] {
        let terms = Self.conjuncts(predicate)
        guard !terms.isEmpty else { return [] }
        var reasons: [String] = []
        var failing = 0
        for term in terms {
            if try run(term) { continue }
            failing += 1
            reasons.append("`\(term)` alone matches nothing")
            if case .comparison("=", .identifier(let name), .literal(let literal)) = term,
                let element = universe.elements[universe.aliases[name] ?? name], element.isDimension, !element.isSkypix
            {
                reasons += try unknownValues(session, element: element, literal: literal, terms: terms)
            }
        }
        if failing == 0 && terms.count > 1 {
            reasons.append("each of the \(terms.count) terms matches something alone, but not all of them together")
        }
        return reasons
    }

    /// `visit=999 is not a known visit of instrument HSC`, when the terms give the element's
    /// parents and no record has that key.
    private func unknownValues(
        _ session: any SQLSession, element: DimensionElement, literal: JSONValue, terms: [QueryExpression]
    ) throws -> [String] {
        var given: [String: DataIdValue] = [:]
        for term in terms {
            if case .comparison("=", .identifier(let name), .literal(let value)) = term, let key = Self.dataIdValue(value) {
                given[universe.aliases[name] ?? name] = key
            }
        }
        guard let value = Self.dataIdValue(literal) else { return [] }
        given[element.name] = value
        if case .missing(let reason) = try lookUpRecord(session, element, { given[$0] }) { return [reason] }
        return []
    }

    private static func dataIdValue(_ json: JSONValue) -> DataIdValue? {
        switch json {
        case .int(let int): return .int(int)
        case .string(let text): return .string(text)
        default: return nil
        }
    }
}

import Butler
import ButlerTestSupport
import Foundation
import Testing

/// The where-language parser accepts exactly what daf_butler's accepts: a corpus of several
/// hundred expressions (daf_butler's own parser test inputs and ours), each judged in the test
/// run by daf_butler's parser from PyPI (`lsst-daf-butler`, the pinned release of
/// `scripts/daf-butler-env.sh`).
@Suite("Where-language verdicts against daf_butler's parser")
struct WhereCorpusTests {
    /// Expressions daf_butler's parser accepts that ours refuses on purpose, with why: each
    /// would fail later in daf_butler too, or mislead.
    static let deliberate: [String: String] = [
        "visit = 1e999": "a number beyond a double's range (daf_butler carries an infinity on)",
        "visit IN (1e999)": "a number beyond a double's range",
        "visit NOT IN (1e999)": "a number beyond a double's range",
        "exposure.timespan OVERLAPS T'58000.5/tdb'": "a time scale other than TAI, UTC or TT",
        "exposure.timespan OVERLAPS T'decimalyear/2013.5'": "a time format this Butler does not convert",
        "exposure.timespan OVERLAPS T'jyear/2013.5'": "a time format this Butler does not convert",
    ]

    @Test("every expression of the corpus gets daf_butler's verdict, and what parses prints back to itself")
    func verdicts() throws {
        let corpusFile = ReferencePython.root.appendingPathComponent("Tests/Interop/where_corpus.json")
        let corpus = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: corpusFile)) as? [String])
        #expect(corpus.count >= 500)
        let data = try ReferencePython.run("where_verdicts.py", [corpusFile.path])
        let verdicts = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
        try #require(verdicts.count == corpus.count)

        var agreed = 0
        for (expression, verdict) in zip(corpus, verdicts) {
            let dafAccepts = verdict[0] as! Bool
            let ours: Result<QueryExpression?, any Error> = Result { try QueryExpression.parseOptional(expression) }
            if let reason = Self.deliberate[expression] {
                #expect(dafAccepts, "\(expression.debugDescription) is listed as a deliberate difference but daf_butler refuses it")
                if case .failure(let error) = ours {
                    #expect((error as? ButlerError)?.code == .invalidQuery, "\(expression.debugDescription): \(error)")
                } else {
                    Issue.record("\(expression.debugDescription) is listed as refused on purpose (\(reason)) but parses")
                }
                continue
            }
            switch ours {
            case .success(let parsed):
                #expect(
                    dafAccepts,
                    "\(expression.debugDescription): daf_butler refuses (\(verdict[1])), we parse \(parsed.map(\.description) ?? "nothing")"
                )
                if dafAccepts { agreed += 1 }
                // What parses prints as text that parses to the same expression.
                if let parsed {
                    #expect(try QueryExpression.parse(parsed.description) == parsed, "\(expression.debugDescription) → \(parsed)")
                }
            case .failure(let error):
                #expect(!dafAccepts, "\(expression.debugDescription): daf_butler accepts, we refuse: \(error)")
                #expect((error as? ButlerError)?.code == .invalidQuery && "\(error)".contains("position"), "\(error)")
                if !dafAccepts { agreed += 1 }
            }
        }
        #expect(agreed + Self.deliberate.count == corpus.count)
    }
}

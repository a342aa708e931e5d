import ButlerTestSupport
import Testing

/// The formatter round-trip suite (``FormatterConformance``, written once in the support
/// target) for every built-in formatter and write configuration.
@Suite("Formatter conformance")
struct FormatterConformanceTests {
    @Test("written and read back equal; parameters select their part", arguments: FormatterCase.all)
    func roundTrip(testCase: FormatterCase) throws { try FormatterConformance(testCase).roundTrip() }

    @Test("failures carry their kind and name the file", arguments: FormatterCase.all)
    func failures(testCase: FormatterCase) throws { try FormatterConformance(testCase).failuresByKind() }
}

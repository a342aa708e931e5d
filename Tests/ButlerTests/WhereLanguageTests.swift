import Composites
import Foundation
import Testing

@testable import Butler

/// White-box tests of the where-language parser and of the SQL the registry generates: tree
/// shapes, error positions, limits, joins made only when needed, and argument order.
@Suite("Where-language parser and generated SQL")
struct WhereLanguageTests {
    let universe = try! DimensionUniverse.defaultUniverse()

    @Test("precedence: NOT binds tighter than AND, AND tighter than OR; parentheses override")
    func precedence() throws {
        let parsed = try QueryExpression.parse("a = 1 OR b = 2 AND NOT c = 3")
        #expect(parsed == .or(.equal("a", 1), .and(.equal("b", 2), .not(.equal("c", 3)))))
        let grouped = try QueryExpression.parse("(a = 1 OR b = 2) AND c = 3")
        #expect(grouped == .and(.or(.equal("a", 1), .equal("b", 2)), .equal("c", 3)))
    }

    @Test("literals: integers, negative and exponent floats, strings, times, ranges, UUIDs, binds; what daf_butler refuses")
    func literals() throws {
        #expect(
            try QueryExpression.parse("visit.exposure_time >= -1.5e2")
                == .comparison(">=", .identifier("visit.exposure_time"), .literal(.double(-150))))
        #expect(try QueryExpression.parse("band != 'g'") == .comparison("!=", .identifier("band"), .literal(.string("g"))))
        #expect(
            try QueryExpression.parse("visit NOT IN (1, -2, 3..9:2, :v)")
                == .membership(
                    .identifier("visit"), [.literal(.int(1)), .literal(.int(-2)), .range(3, 9, stride: 2), .bind("v")], negated: true))
        #expect(
            try QueryExpression.parse("exposure.timespan OVERLAPS (T'2013-11-02T10:00:00', T'58000.5')")
                == .comparison(
                    "OVERLAPS", .identifier("exposure.timespan"),
                    .tuple(.time(try AstroTime("2013-11-02T10:00:00")), .time(try AstroTime("mjd/58000.5/tai")))))
        #expect(
            try QueryExpression.parse("dataset_id = UUID('{38A42B54-0822-4DCE-93B7-47E9B0D8AD66}')")
                == .comparison("=", .identifier("dataset_id"), .uuid(UUID(uuidString: "38a42b54-0822-4dce-93b7-47e9b0d8ad66")!)))
        #expect(
            try QueryExpression.parse("-(visit + 1) * 2 % 3")
                == .arithmetic(
                    "%", .arithmetic("*", .negation(.arithmetic("+", .identifier("visit"), .literal(.int(1)))), .literal(.int(2))),
                    .literal(.int(3))))
        #expect(try QueryExpression.parse("GLOB(visit.name, 'a*')") == .glob(.identifier("visit.name"), .literal(.string("a*"))))
        // TRUE is a name (daf_butler has no boolean literal); it compiles to true unless bound.
        #expect(try QueryExpression.parse("TRUE") == .identifier("TRUE"))
        for refused in ["band <> 'g'", "band = \"g\"", "visit = 1 = ", "x IN (f(1))", "CIRCLE(1, 2)"] {
            #expect(throws: ButlerError.self, "\(refused)") { try QueryExpression.parse(refused) }
        }
        #expect(try QueryExpression.parseOptional("  \n ") == nil)
    }

    @Test("an expression prints as text that parses back to it (found by FuzzWhere: quotes inside a literal)")
    func printsBack() throws {
        for text in [
            "band = 'it\"s'", "visit IN (1, 2) AND NOT (band = 'r' OR x > -1.5e-3)", "name = ''", "((((visi=t)=1 )))",
            "(NOT a) = 1", "(a = 1) IN (TRUE)", "band = '\u{064B}r'", "- - visit = -(-1)", "a - -1..2 IN (3)",
            "x.timespan OVERLAPS T'2016-12-31T23:59:60.5'", "f(, a, (b, c))",
            // A left-deep chain prints as nested parentheses, which must not count as more
            // levels than the chain itself (found by FuzzWhere).
            (0..<60).map { "m\($0)" }.joined(separator: " + ") + " > 0", String(repeating: "-", count: 60) + "(1..2) = x",
        ] {
            let expression = try QueryExpression.parse(text)
            #expect(try QueryExpression.parse(expression.description) == expression, "\(text) → \(expression)")
        }
        // Names are ASCII, as in daf_butler's grammar.
        #expect(throws: ButlerError.self) { try QueryExpression.parse("\u{064B}te OR eI\u{064B}te != 7") }
    }

    @Test("a number beyond a double's range is refused, not read as infinity (found by FuzzWhere)")
    func hugeNumbers() throws {
        let error = #expect(throws: ButlerError.self) { try QueryExpression.parse("visit > 1e999") }
        #expect(error?.code == .invalidQuery && "\(error!)".contains("out of range"))
        #expect(
            try QueryExpression.parse("visit > 99999999999999999999") == .comparison(">", .identifier("visit"), .literal(.double(1e20))))
    }

    @Test("errors name the position and the expression")
    func errors() throws {
        for (text, position) in [
            ("visit = ", 9), ("visit IN 3", 10), ("visit NOT 3", 7), ("(visit = 1", 11), ("visit = 1 1", 11), ("visit ~ 1", 7),
        ] {
            let error = #expect(throws: ButlerError.self) { try QueryExpression.parse(text) }
            #expect(error?.code == .invalidQuery && "\(error!)".contains("position \(position)"), "\(text): \(error.map { "\($0)" } ?? "")")
        }
    }

    @Test("deep nesting is refused with a clear error; long chains stay shallow")
    func limits() throws {
        let deep = String(repeating: "(", count: 5000) + "visit = 1" + String(repeating: ")", count: 5000)
        let error = #expect(throws: ButlerError.self) { try QueryExpression.parse(deep) }
        #expect("\(error!)".contains("nests deeper than"))
        let negations = String(repeating: "NOT ", count: 5000) + "visit = 1"
        #expect(throws: ButlerError.self) { try QueryExpression.parse(negations) }
        let chain = (0..<20_000).map { "visit = \($0)" }.joined(separator: " OR ")
        let parsed = try QueryExpression.parse(chain)
        func depth(_ expression: QueryExpression) -> Int {
            switch expression {
            case .or(let lhs, let rhs), .and(let lhs, let rhs): return 1 + max(depth(lhs), depth(rhs))
            case .not(let operand): return 1 + depth(operand)
            default: return 0
            }
        }
        #expect(depth(parsed) <= 16)
        var builder = QueryBuilder(universe: universe, dialect: .sqlite)
        builder.base(table: "tags", alias: "t", dimensions: ["instrument", "visit"])
        #expect(try builder.compile(parsed, bind: [:], context: "test").arguments.count == 20_000)
    }

    @Test("SQL: a required dimension reads the tag table; literals are converted to the column's type")
    func directColumns() throws {
        var builder = QueryBuilder(universe: universe, dialect: .postgresql)
        builder.base(table: "dataset_tags_00000001", alias: "t", dimensions: ["instrument", "detector", "visit"])
        let compiled = try builder.compile(try QueryExpression.parse("visit = '42' AND instrument = 5"), bind: [:], context: "test")
        #expect(compiled.sql == #"(t."visit" = ? AND t."instrument" = ?)"#)
        #expect(compiled.arguments == [.integer(42), .text("5")])
        #expect(builder.fromClause == "dataset_tags_00000001 t")
    }

    @Test("SQL: an implied dimension or a record field joins only the tables that give it")
    func joins() throws {
        var builder = QueryBuilder(universe: universe, dialect: .sqlite)
        builder.base(table: "tags", alias: "t", dimensions: ["instrument", "detector", "visit"])
        let band = try builder.compile(try QueryExpression.parse("band = 'i'"), bind: [:], context: "test")
        #expect(builder.fromClause.contains("JOIN dim_visit e1 ON"))
        #expect(builder.fromClause.contains("JOIN dim_physical_filter e2 ON"))
        #expect(band.sql == #"e2."band" = ?"# && band.arguments == [.text("i")])
        let field = try builder.compile(try QueryExpression.parse("visit.exposure_time > 10"), bind: [:], context: "test")
        #expect(field.sql == #"e1."exposure_time" > ?"#)
        _ = field
    }

    @Test("SQL: bind values and unknown identifiers")
    func binds() throws {
        var builder = QueryBuilder(universe: universe, dialect: .sqlite)
        builder.base(table: "tags", alias: "t", dimensions: ["instrument", "visit"])
        let compiled = try builder.compile(try QueryExpression.parse("visit IN (first, 7)"), bind: ["first": 3], context: "test")
        #expect(compiled.sql == #"t."visit" IN (?, ?)"# && compiled.arguments == [.integer(3), .integer(7)])
        let unknown = #expect(throws: ButlerError.self) { try builder.compile(.equal("colour", 1), bind: [:], context: "test") }
        #expect("\(unknown!)".contains("unknown identifier 'colour'"))
        let unrelated = #expect(throws: ButlerError.self) { try builder.compile(.equal("tract", 1), bind: [:], context: "test") }
        #expect("\(unrelated!)".contains("'tract' is not related"))
    }

    @Test("SQL: a find with an attached table puts the join's arguments before the WHERE clause's")
    func attachedFind() throws {
        let session = RecordingSession()
        let registry = Registry(database: RecordingDatabase(session: session), universe: universe)
        let datasetType = DatasetType(name: "metrics", dimensions: try universe.group(["visit"]), storageClass: "StructuredDataDict")
        let record = DatasetTypeRecord(id: 7, datasetType: datasetType, tagTable: "dataset_tags_00000002")
        let coordinate = try universe.standardize(["instrument": "HSC", "visit": 42], for: datasetType.dimensions)
        let attachment = AttachedTable(
            table: "file_datastore_records", datasetIdColumn: "dataset_id", columns: ["path", "checksum"],
            restrictions: [.init("datastore_name", equals: .text("FileDatastore@<butlerRoot>"))])
        let path = [
            CollectionRecord(id: 3, name: "run/a", type: .run, doc: ""), CollectionRecord(id: 5, name: "run/b", type: .run, doc: ""),
        ]
        #expect(try registry.findRanked(session, record, coordinate, in: path, attaching: attachment) == nil)
        let (sql, arguments) = try #require(session.statements.last)
        #expect(
            sql == """
                SELECT t.dataset_id, t.collection_id, t.run_id, a."path", a."checksum" FROM dataset_tags_00000002 t \
                LEFT JOIN "file_datastore_records" a ON a."dataset_id" = t.dataset_id AND a."datastore_name" = ? \
                WHERE t.dataset_type_id = ? AND t."instrument" = ? AND t."visit" = ? AND t.collection_id IN (?, ?)
                """)
        #expect(arguments == [.text("FileDatastore@<butlerRoot>"), .integer(7), .text("HSC"), .integer(42), .integer(3), .integer(5)])
    }
}

/// A session that records statements and returns no rows.
private final class RecordingSession: SQLSession, @unchecked Sendable {
    // Used by one test at a time, on one thread.
    var statements: [(String, [SQLValue])] = []
    var dialect: SQLDialect { .postgresql }
    func execute(_ sql: String, _ arguments: [SQLValue]) throws { statements.append((sql, arguments)) }
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        statements.append((sql, arguments))
        return []
    }
}

/// A database whose units of work run on a ``RecordingSession``.
private struct RecordingDatabase: SQLDatabase {
    let session: RecordingSession
    let statements = SQLStatementCounter()
    var dialect: SQLDialect { .postgresql }
    var localFile: String? { nil }
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T { try body(session) }
    func readLatest<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T { try body(session) }
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T { try body(session) }
    func close() async throws {}
}

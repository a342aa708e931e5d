public import Composites
public import Foundation

/// A boolean expression over dimensions, record fields, dataset fields and times: daf_butler's
/// `where` language (`instrument = 'HSC' AND visit IN (1..10:2) AND visit.exposure_time > 10 AND
/// visit.timespan OVERLAPS (T'2013-11-02T10:00', T'2013-11-03')`), parsed from text or built in
/// code (``equal(_:_:)``, ``dataId(_:)``), then compiled to SQL per engine with bound values.
public indirect enum QueryExpression: Sendable, Equatable, CustomStringConvertible {
    /// A dimension (`visit`), a record field (`visit.exposure_time`), a dataset field
    /// (`calexp.seeing`, `ingest_date`, `dataset_id`), or a bind name written without a colon.
    case identifier(String)
    /// A value bound by name: `:name`.
    case bind(String)
    /// A literal number or string (or a boolean built in code).
    case literal(JSONValue)
    /// A time literal `T'…'`.
    case time(AstroTime)
    /// `start..stop[:stride]`: the integers from `start` to `stop` inclusive, by `stride`.
    case range(Int64, Int64, stride: Int64?)
    /// `UUID('…')`.
    case uuid(UUID)
    /// `lhs op rhs` with op one of `=`, `!=`, `<`, `<=`, `>`, `>=`, `OVERLAPS`.
    case comparison(String, QueryExpression, QueryExpression)
    /// `value [NOT] IN (items…)`.
    case membership(QueryExpression, [QueryExpression], negated: Bool)
    /// `lhs op rhs` with op one of `+`, `-`, `*`, `/`, `%`.
    case arithmetic(String, QueryExpression, QueryExpression)
    /// `-operand`.
    case negation(QueryExpression)
    /// `+operand` (kept, so that an expression prints as it was written).
    case positive(QueryExpression)
    /// `(first, second)`: a time range for `OVERLAPS`.
    case tuple(QueryExpression, QueryExpression)
    /// `GLOB(expression, pattern)`: `*` and `?` wildcards.
    case glob(QueryExpression, QueryExpression)
    /// Any other function call (`POINT`, `CIRCLE`… are the sky's).
    case function(String, [QueryExpression])
    /// Both hold.
    case and(QueryExpression, QueryExpression)
    /// Either holds.
    case or(QueryExpression, QueryExpression)
    /// The operand does not hold.
    case not(QueryExpression)

    /// `dimension = value`.
    public static func equal(_ dimension: String, _ value: DataIdValue) -> QueryExpression {
        .comparison("=", .identifier(dimension), .literal(JSONValue(value)))
    }

    /// The conjunction of `dimension = value` for every entry (nil for an empty data ID).
    public static func dataId(_ dataId: DataId) -> QueryExpression? {
        dataId.sorted { $0.key < $1.key }.map { equal($0.key, $0.value) }.reduce(nil) { partial, next in
            partial.map { .and($0, next) } ?? next
        }
    }

    /// The names that may be bind values in the expression: `:name`s and plain identifiers
    /// (a bind may be named without its colon).
    var possibleBindNames: Set<String> {
        var names = Set(identifiers)
        func visit(_ expression: QueryExpression) {
            switch expression {
            case .bind(let name): names.insert(name)
            case .comparison(_, let lhs, let rhs), .arithmetic(_, let lhs, let rhs), .tuple(let lhs, let rhs), .glob(let lhs, let rhs),
                .and(let lhs, let rhs), .or(let lhs, let rhs):
                visit(lhs)
                visit(rhs)
            case .membership(let subject, let items, _):
                visit(subject)
                items.forEach(visit)
            case .negation(let inner), .positive(let inner), .not(let inner): visit(inner)
            case .function(_, let arguments): arguments.forEach(visit)
            case .identifier, .literal, .time, .range, .uuid: break
            }
        }
        visit(self)
        return names
    }

    /// Every identifier the expression names (`visit`, `exposure.day_obs`, `ingest_date`).
    var identifiers: [String] {
        switch self {
        case .identifier(let name): return [name]
        case .bind, .literal, .time, .range, .uuid: return []
        case .comparison(_, let lhs, let rhs), .arithmetic(_, let lhs, let rhs), .tuple(let lhs, let rhs), .glob(let lhs, let rhs),
            .and(let lhs, let rhs), .or(let lhs, let rhs):
            return lhs.identifiers + rhs.identifiers
        case .membership(let subject, let items, _): return subject.identifiers + items.flatMap(\.identifiers)
        case .negation(let inner), .positive(let inner), .not(let inner): return inner.identifiers
        case .function(_, let arguments): return arguments.flatMap(\.identifiers)
        }
    }

    /// The predicate of a query: `expression` parsed, and `dataId` as equalities.
    /// - Throws: ``ButlerError/Code/invalidQuery`` for a syntax error, or for bind values
    ///   given with no expression to use them (an expression that leaves some unused is
    ///   refused when it is compiled).
    static func predicate(_ expression: String?, dataId: DataId, bind: [String: BindValue]) throws -> QueryExpression? {
        let parsed = try expression.flatMap(parseOptional)
        if parsed == nil, !bind.isEmpty {
            throw ButlerError.query(
                "bind values \(bind.keys.sorted().map { ":" + $0 }.joined(separator: ", ")) were given, but no where-expression uses them")
        }
        return conjunction(parsed, QueryExpression.dataId(dataId))
    }

    /// Both expressions, either of which may be absent.
    public static func conjunction(_ lhs: QueryExpression?, _ rhs: QueryExpression?) -> QueryExpression? {
        switch (lhs, rhs) {
        case (nil, nil): return nil
        case (let one?, nil), (nil, let one?): return one
        case (let a?, let b?): return .and(a, b)
        }
    }

    /// The expression as where-language text that parses back to it.
    public var description: String {
        switch self {
        case .identifier(let name): return name
        case .bind(let name): return ":" + name
        case .literal(.string(let text)):
            // The language has no escape for a quote: a text holding one (built in code)
            // prints in double quotes, which only reads back through ``literal(_:)``.
            return text.unicodeScalars.contains("'") ? "\"\(text)\"" : "'\(text)'"
        case .literal(.bool(let value)): return value ? "TRUE" : "FALSE"
        case .literal(let value): return value.description
        case .time(let time): return "T'\(time.isot(scale: .tai))/tai'"
        case .range(let start, let stop, let stride): return "\(start)..\(stop)" + (stride.map { ":\($0)" } ?? "")
        case .uuid(let uuid): return "UUID('\(uuid.uuidString.lowercased())')"
        case .comparison(let op, let lhs, let rhs): return "\(lhs.operandText) \(op) \(rhs.operandText)"
        case .membership(let value, let items, let negated):
            return "\(value.operandText) \(negated ? "NOT IN" : "IN") (\(items.map(\.description).joined(separator: ", ")))"
        case .arithmetic(let op, let lhs, let rhs): return "\(lhs.arithmeticOperandText) \(op) \(rhs.arithmeticOperandText)"
        case .negation(let operand), .positive(let operand):
            let sign = if case .negation = self { "-" } else { "+" }
            switch operand {
            case .identifier, .bind, .literal(.string), .time, .uuid, .tuple, .glob, .function, .negation, .positive:
                return sign + "\(operand)"
            default: return sign + "(\(operand))"
            }
        case .tuple(let first, let second): return "(\(first), \(second))"
        case .glob(let expression, let pattern): return "GLOB(\(expression), \(pattern))"
        case .function(let name, let arguments): return "\(name)(\(arguments.map(\.description).joined(separator: ", ")))"
        case .and(let lhs, let rhs): return "\(lhs.logicalOperandText) AND \(rhs.logicalOperandText)"
        case .or(let lhs, let rhs): return "\(lhs.logicalOperandText) OR \(rhs.logicalOperandText)"
        case .not(let operand): return "NOT \(operand.logicalOperandText)"
        }
    }
}

extension QueryExpression {
    // Parentheses go where the grammar needs them and nowhere else: daf_butler's checks of
    // call arguments (CIRCLE, REGION) refuse a parenthesized argument, so a printed expression
    // must not gain any its tree does not need.

    /// An operand of a comparison or `IN`: `(a = b) = 1`, `(NOT a) = 1`, `(a OR b) = c`.
    fileprivate var operandText: String {
        switch self {
        case .comparison, .membership, .not, .and, .or: return "(\(description))"
        default: return description
        }
    }

    /// An operand of arithmetic: `(a + b) * c`, `a - (b - c)`.
    fileprivate var arithmeticOperandText: String {
        switch self {
        case .arithmetic, .comparison, .membership, .not, .and, .or: return "(\(description))"
        default: return description
        }
    }

    /// An operand of AND, OR or NOT: every AND and OR inside is parenthesized, so that the
    /// parser's balanced chains come back with the same shape.
    fileprivate var logicalOperandText: String {
        switch self {
        case .and, .or: return "(\(description))"
        default: return description
        }
    }
}

extension JSONValue {
    /// The JSON form of a data ID value.
    init(_ value: DataIdValue) {
        switch value {
        case .int(let int): self = .int(int)
        case .string(let text): self = .string(text)
        }
    }
}

extension QueryExpression {
    /// Parses daf_butler's `where` syntax (version 30.2026.4300): `AND`, `OR`, `NOT`,
    /// comparisons, `OVERLAPS`, `[NOT] IN (…)` with ranges `a..b[:s]`, arithmetic, unary minus,
    /// numbers, `'strings'`, `T'…'` times, `:binds`, `UUID('…')`, `GLOB(…)` and other calls,
    /// `(a, b)` pairs, simple and qualified names — accepting what daf_butler's parser accepts.
    /// - Throws: ``ButlerError/Code/invalidQuery`` naming the position, for an empty text too
    ///   (see ``parseOptional(_:)``).
    public static func parse(_ text: String) throws -> QueryExpression {
        guard let expression = try parseOptional(text) else {
            throw ButlerError.query("empty where-expression \"\(text)\"")
        }
        return expression
    }

    /// ``parse(_:)``, with nil for a text of only white space (daf_butler accepts it as "no
    /// constraint").
    public static func parseOptional(_ text: String) throws -> QueryExpression? {
        var parser = try WhereParser(text: text)
        if parser.tokens.isEmpty { return nil }
        let expression = try parser.parseExpression().expression
        if let token = parser.peek() { throw parser.error("unexpected \(token.quoted)", at: token.offset) }
        return expression
    }
}

/// A recursive-descent parser equivalent to daf_butler's PLY grammar and lexer.
private struct WhereParser {
    struct Token {
        enum Kind: Equatable {
            case number, string, time, range, qualified, simple, bind, keyword, symbol
        }
        let kind: Kind
        let text: String
        let offset: Int
        var quoted: String { kind == .string ? "'\(text)'" : kind == .time ? "T'\(text)'" : "'\(text)'" }
    }

    /// An expression with the height of its tree, and whether it was written in parentheses
    /// (which the tree drops but daf_butler's checks of call arguments see).
    struct Parsed {
        let expression: QueryExpression
        let height: Int
        var parenthesized = false
    }

    let text: String
    let tokens: [Token]
    var position = 0
    /// How deep parentheses, NOTs, signs and calls nest at the current position: checked on
    /// the way down, before the recursion of thousands of levels could exhaust the stack.
    var nesting = 0

    /// The tallest tree accepted: compiling, printing and comparing recurse once per level,
    /// and thousands of levels would overflow a thread's stack. `AND`/`OR` chains are built
    /// balanced, so only parentheses, `NOT`, signs, and chains of comparisons or arithmetic
    /// count.
    static let maxHeight = 64

    init(text: String) throws {
        self.text = text
        tokens = try Self.tokenize(text)
    }

    func error(_ message: String, at offset: Int) -> ButlerError {
        WhereSyntaxError.error(message, at: offset, in: text)
    }

    func peek(_ ahead: Int = 0) -> Token? { position + ahead < tokens.count ? tokens[position + ahead] : nil }

    mutating func next() throws -> Token {
        guard let token = peek() else { throw error("unexpected end", at: text.unicodeScalars.count) }
        position += 1
        return token
    }

    func isKeyword(_ word: String, _ ahead: Int = 0) -> Bool {
        guard let token = peek(ahead) else { return false }
        return token.kind == .keyword && token.text == word
    }

    func isSymbol(_ symbol: String, _ ahead: Int = 0) -> Bool {
        guard let token = peek(ahead) else { return false }
        return token.kind == .symbol && token.text == symbol
    }

    mutating func expect(_ symbol: String, _ what: String) throws {
        guard isSymbol(symbol) else {
            let token = peek()
            throw error(
                token.map { "expected \(what), found \($0.quoted)" } ?? "expected \(what) at the end",
                at: token?.offset ?? text.unicodeScalars.count)
        }
        position += 1
    }

    /// The deepest nesting of parentheses, NOTs, signs and calls accepted while parsing: above
    /// ``maxHeight``, because printing a tree may write up to two of them per level (`-(…)`),
    /// and what prints must parse again.
    static let maxNesting = 3 * maxHeight

    /// Enters one level of nesting at `offset`, refusing more than ``maxNesting``.
    mutating func enter(at offset: Int) throws {
        nesting += 1
        if nesting > Self.maxNesting { throw error("the expression nests deeper than \(Self.maxNesting) levels", at: offset) }
    }

    func checked(_ expression: QueryExpression, height: Int, at offset: Int) throws -> Parsed {
        guard height <= Self.maxHeight else {
            throw error("the expression nests deeper than \(Self.maxHeight) levels", at: offset)
        }
        return Parsed(expression: expression, height: height)
    }

    // expr := and (OR and)*
    mutating func parseExpression() throws -> Parsed {
        var terms = [try parseAnd()]
        while isKeyword("OR") {
            position += 1
            terms.append(try parseAnd())
        }
        return Self.balanced(terms[...], QueryExpression.or)
    }

    // and := not (AND not)*
    mutating func parseAnd() throws -> Parsed {
        var terms = [try parseNot()]
        while isKeyword("AND") {
            position += 1
            terms.append(try parseNot())
        }
        return Self.balanced(terms[...], QueryExpression.and)
    }

    /// A chain `a AND b AND c …` as a balanced tree: its height grows with the logarithm of its
    /// length, so a long generated chain cannot make later passes recurse thousands of times.
    static func balanced(_ terms: ArraySlice<Parsed>, _ join: (QueryExpression, QueryExpression) -> QueryExpression) -> Parsed {
        if terms.count == 1 { return terms[terms.startIndex] }
        let middle = terms.startIndex + terms.count / 2
        let (lhs, rhs) = (balanced(terms[..<middle], join), balanced(terms[middle...], join))
        return Parsed(expression: join(lhs.expression, rhs.expression), height: 1 + max(lhs.height, rhs.height))
    }

    // not := NOT not | boolPrimary
    mutating func parseNot() throws -> Parsed {
        if isKeyword("NOT") {
            let token = try next()
            try enter(at: token.offset)
            defer { nesting -= 1 }
            let operand = try parseNot()
            return try checked(.not(operand.expression), height: operand.height + 1, at: token.offset)
        }
        return try parseBoolPrimary()
    }

    // boolPrimary := predicate ((= | != | < | <= | > | >= | OVERLAPS) predicate)*
    mutating func parseBoolPrimary() throws -> Parsed {
        try parseChain(
            {
                ($0.kind == .symbol && ["=", "!=", "<", "<=", ">", ">="].contains($0.text))
                    || ($0.kind == .keyword && $0.text == "OVERLAPS")
            },
            operand: { try $0.parsePredicate() }, join: QueryExpression.comparison)
    }

    /// A left-associative chain `operand (operator operand)*`: each operator token `isOperator`
    /// accepts joins what came before and the next operand into one node.
    mutating func parseChain(
        _ isOperator: (Token) -> Bool, operand: (inout WhereParser) throws -> Parsed,
        join: (String, QueryExpression, QueryExpression) -> QueryExpression
    ) throws -> Parsed {
        var result = try operand(&self)
        while let token = peek(), isOperator(token) {
            position += 1
            let rhs = try operand(&self)
            result = try checked(
                join(token.text, result.expression, rhs.expression), height: 1 + max(result.height, rhs.height), at: token.offset)
        }
        return result
    }

    // predicate := bitExpr [NOT] IN '(' item (',' item)* ')' | bitExpr
    mutating func parsePredicate() throws -> Parsed {
        let value = try parseSum()
        var negated = false
        if isKeyword("NOT"), isKeyword("IN", 1) {
            negated = true
            position += 1
        }
        guard isKeyword("IN") else { return value }
        position += 1
        try expect("(", "'(' after IN")
        var items = [try parseItem()]
        while isSymbol(",") {
            position += 1
            items.append(try parseItem())
        }
        try expect(")", "',' or ')' in the IN list")
        return Parsed(expression: .membership(value.expression, items, negated: negated), height: value.height + 1)
    }

    /// An `IN` list item: a literal (a number may carry a sign), a simple name, a bind or a
    /// call (`UUID('…')`).
    mutating func parseItem() throws -> QueryExpression {
        let token = try next()
        switch token.kind {
        case .number, .string, .time, .range: return try literal(token)
        case .symbol where token.text == "+" || token.text == "-":
            guard let number = peek(), number.kind == .number else {
                throw error("an IN list holds values: a sign must precede a number", at: token.offset)
            }
            position += 1
            let value = try literal(number)
            return token.text == "-" ? try negate(value, at: token.offset) : value
        case .simple:
            guard isSymbol("(") else { return .identifier(token.text) }
            // Of calls, only UUID('…') gives a value (daf_butler refuses the others here).
            let call = try parseCall(token).expression
            guard case .uuid = call else { throw error("an IN list holds values, not \(call)", at: token.offset) }
            return call
        case .bind: return .bind(token.text)
        default:
            throw error("an IN list holds literals, names, binds and UUIDs, not \(token.quoted)", at: token.offset)
        }
    }

    // sum := product ((+ | -) product)*
    mutating func parseSum() throws -> Parsed {
        try parseChain(
            { $0.kind == .symbol && ($0.text == "+" || $0.text == "-") }, operand: { try $0.parseProduct() },
            join: QueryExpression.arithmetic)
    }

    // product := unary ((* | / | %) unary)*
    mutating func parseProduct() throws -> Parsed {
        try parseChain(
            { $0.kind == .symbol && ["*", "/", "%"].contains($0.text) }, operand: { try $0.parseUnary() }, join: QueryExpression.arithmetic)
    }

    // unary := (+ | -) unary | primary
    mutating func parseUnary() throws -> Parsed {
        if let token = peek(), token.kind == .symbol, token.text == "+" || token.text == "-" {
            position += 1
            try enter(at: token.offset)
            defer { nesting -= 1 }
            let operand = try parseUnary()
            guard token.text == "-" else { return try checked(.positive(operand.expression), height: operand.height + 1, at: token.offset) }
            return try checked(try negate(operand.expression, at: token.offset), height: operand.height + 1, at: token.offset)
        }
        return try parsePrimary()
    }

    /// `-x`, folded into a numeric literal.
    func negate(_ expression: QueryExpression, at offset: Int) throws -> QueryExpression {
        switch expression {
        case .literal(.int(let int)) where int != .min: return .literal(.int(-int))
        case .literal(.double(let double)): return .literal(.double(-double))
        default: return .negation(expression)
        }
    }

    // primary := literal | name | bind | call | '(' expr ')' | '(' expr ',' expr ')'
    mutating func parsePrimary() throws -> Parsed {
        let token = try next()
        switch token.kind {
        case .number, .string, .time, .range: return Parsed(expression: try literal(token), height: 0)
        case .qualified: return Parsed(expression: .identifier(token.text), height: 0)
        case .simple:
            if isSymbol("(") { return try parseCall(token) }
            return Parsed(expression: .identifier(token.text), height: 0)
        case .bind: return Parsed(expression: .bind(token.text), height: 0)
        case .symbol where token.text == "(":
            try enter(at: token.offset)
            defer { nesting -= 1 }
            let first = try parseExpression()
            if isSymbol(",") {
                position += 1
                let second = try parseExpression()
                try expect(")", "')' closing the pair")
                return try checked(
                    .tuple(first.expression, second.expression), height: 1 + max(first.height, second.height), at: token.offset)
            }
            try expect(")", "')'")
            // Parentheses make no node: the tree is no taller.
            var inner = first
            inner.parenthesized = true
            return inner
        default:
            throw error("unexpected \(token.quoted)", at: token.offset)
        }
    }

    // call := SIMPLE '(' [expr] (',' expr)* ')'; the calls daf_butler knows are checked as it
    // checks them (GLOB, UUID, and the sky's POINT, CIRCLE, BOX, POLYGON, REGION).
    mutating func parseCall(_ name: Token) throws -> Parsed {
        try expect("(", "'('")
        try enter(at: name.offset)
        defer { nesting -= 1 }
        var arguments: [Parsed] = []
        // daf_butler's argument list may start empty before a comma: `f(, a)` is `f(a)`.
        if !isSymbol(")") && !isSymbol(",") { arguments.append(try parseExpression()) }
        while isSymbol(",") {
            position += 1
            arguments.append(try parseExpression())
        }
        try expect(")", "',' or ')' in the arguments of \(name.text)")
        let height = 1 + (arguments.map(\.height).max() ?? 0)
        let values = arguments.map(\.expression)
        func fail(_ message: String) -> ButlerError { error(message, at: name.offset) }
        /// What CIRCLE, BOX and POLYGON take: a number, a name, a bind, or an operation.
        func isNumeric(_ argument: Parsed) -> Bool {
            if argument.parenthesized { return false }
            switch argument.expression {
            case .identifier, .bind, .literal(.int), .literal(.double), .comparison, .arithmetic, .negation, .positive, .and, .or, .not:
                return true
            default: return false
            }
        }
        switch name.text.uppercased() {
        case "GLOB":
            guard values.count == 2 else { throw fail("GLOB takes two arguments (expression, pattern)") }
            guard case .identifier = values[0] else { throw fail("GLOB's first argument must be a name") }
            switch values[1] {
            case .literal(.string), .bind: break
            default: throw fail("GLOB's second argument must be a string or a :bind")
            }
            return try checked(.glob(values[0], values[1]), height: height, at: name.offset)
        case "UUID":
            guard values.count == 1, case .literal(.string(let text)) = values[0] else {
                throw fail("UUID takes one string literal")
            }
            guard let uuid = Self.uuid(text) else { throw fail("'\(text)' is not a UUID") }
            return Parsed(expression: .uuid(uuid), height: 0)
        case "POINT":
            guard values.count == 2 else { throw fail("POINT takes two arguments (ra, dec)") }
        case "CIRCLE":
            guard values.count == 3, arguments.allSatisfy(isNumeric) else {
                throw fail("CIRCLE takes three numbers, names or binds (ra, dec, radius)")
            }
        case "BOX":
            guard values.count == 4, arguments.allSatisfy(isNumeric) else {
                throw fail("BOX takes four numbers, names or binds (ra, dec, width, height)")
            }
        case "POLYGON":
            guard values.count >= 6, values.count % 2 == 0, arguments.allSatisfy(isNumeric) else {
                throw fail("POLYGON takes three or more vertices, each two numbers, names or binds")
            }
        case "REGION":
            let argument = arguments.first
            let valid: Bool
            switch argument?.expression {
            case .literal(.string)?, .bind?, .identifier?: valid = values.count == 1 && !argument!.parenthesized
            default: valid = false
            }
            guard valid else { throw fail("REGION takes one string, name or bind") }
        default:
            break
        }
        return try checked(.function(name.text, values), height: height, at: name.offset)
    }

    /// A UUID as Python's `uuid.UUID` reads one: optional `urn:`/`uuid:` prefixes and braces,
    /// hyphens anywhere, 32 hexadecimal digits.
    static func uuid(_ text: String) -> UUID? {
        var hex = text.replacingOccurrences(of: "urn:", with: "").replacingOccurrences(of: "uuid:", with: "")
        hex = String(hex.drop { $0 == "{" }.reversed().drop { $0 == "}" }.reversed()).replacingOccurrences(of: "-", with: "")
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        var groups = hex
        for index in [8, 13, 18, 23] { groups.insert("-", at: groups.index(groups.startIndex, offsetBy: index)) }
        return UUID(uuidString: groups)
    }

    /// The value of a literal token.
    func literal(_ token: Token) throws -> QueryExpression {
        switch token.kind {
        case .string: return .literal(.string(token.text))
        case .time:
            do { return .time(try AstroTime(token.text)) } catch let failure as ButlerError {
                throw error("bad time literal T'\(token.text)': \(failure.message)", at: token.offset)
            }
        case .range:
            let parts = Self.rangeParts(token.text)
            guard let start = Int64(parts.start), let stop = Int64(parts.stop), parts.stride.map({ Int64($0) != nil }) ?? true else {
                throw error("range '\(token.text)' is out of range", at: token.offset)
            }
            return .range(start, stop, stride: parts.stride.flatMap { Int64($0) })
        default:
            if let int = Int64(token.text) { return .literal(.int(int)) }
            guard let double = Double(token.text) else { throw error("bad number '\(token.text)'", at: token.offset) }
            // daf_butler would carry an infinity on; refused here, where it can only mislead.
            guard double.isFinite else { throw error("number '\(token.text)' is out of range", at: token.offset) }
            return .literal(.double(double))
        }
    }

    static func rangeParts(_ text: String) -> (start: String, stop: String, stride: String?) {
        let compact = text.filter { !$0.isWhitespace }
        let halves = compact.components(separatedBy: "..")
        let tail = halves[1].split(separator: ":", maxSplits: 1).map(String.init)
        return (halves[0], tail[0], tail.count == 2 ? tail[1] : nil)
    }

    static let reserved: Set<String> = ["IN", "OR", "AND", "NOT", "OVERLAPS"]

    /// daf_butler's lexer: at each position the first of its rules that matches, in its order
    /// (time, string, range, number, qualified name, simple name, bind, then the operators);
    /// spaces, tabs and newlines separate tokens, any other character is an error.
    static func tokenize(_ text: String) throws -> [Token] {
        let characters = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func fail(_ message: String) -> ButlerError { WhereSyntaxError.error(message, at: index, in: text) }
        func string(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(characters[range])) }
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        func at(_ offset: Int) -> Unicode.Scalar? { offset < characters.count ? characters[offset] : nil }
        func digits(from offset: Int) -> Int {
            var end = offset
            while let scalar = at(end), isDigit(scalar) { end += 1 }
            return end
        }
        func spaces(from offset: Int) -> Int {
            // Python's `\s`: white space including newlines.
            var end = offset
            while let scalar = at(end), scalar.properties.isWhitespace { end += 1 }
            return end
        }
        /// A quoted text from `offset` (at the opening quote) to the next quote on the line.
        func quoted(from offset: Int) -> Int? {
            var end = offset + 1
            while let scalar = at(end), scalar != "'" {
                if scalar == "\n" { return nil }
                end += 1
            }
            return at(end) == "'" ? end + 1 : nil
        }
        /// `-?\d+\s*\.\.\s*-?\d+(\s*:\s*[1-9]\d*)?`
        func range(from offset: Int) -> Int? {
            var end = offset
            if at(end) == "-" { end += 1 }
            let afterStart = digits(from: end)
            guard afterStart > end else { return nil }
            end = spaces(from: afterStart)
            guard at(end) == ".", at(end + 1) == "." else { return nil }
            end = spaces(from: end + 2)
            if at(end) == "-" { end += 1 }
            let afterStop = digits(from: end)
            guard afterStop > end else { return nil }
            end = afterStop
            let colon = spaces(from: end)
            if at(colon) == ":" {
                let first = spaces(from: colon + 1)
                if let scalar = at(first), ("1"..."9").contains(scalar) { end = digits(from: first + 1) }
            }
            return end
        }
        /// `\d+(\.\d*)?(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?`
        func number(from offset: Int) -> Int? {
            var end = offset
            if let scalar = at(end), isDigit(scalar) {
                end = digits(from: end)
                if at(end) == "." { end = digits(from: end + 1) }
            } else if at(end) == ".", let next = at(end + 1), isDigit(next) {
                end = digits(from: end + 1)
            } else {
                return nil
            }
            if let e = at(end), e == "e" || e == "E" {
                var exponent = end + 1
                if let sign = at(exponent), sign == "+" || sign == "-" { exponent += 1 }
                let afterExponent = digits(from: exponent)
                if afterExponent > exponent { end = afterExponent }
            }
            return end
        }
        func name(from offset: Int) -> Int {
            var end = offset + 1
            while let scalar = at(end), isLetter(scalar) || isDigit(scalar) { end += 1 }
            return end
        }
        while index < characters.count {
            let character = characters[index]
            if character == " " || character == "\t" || character == "\n" {
                index += 1
                continue
            }
            let start = index
            if character == "T" || character == "t", at(index + 1) == "'", let end = quoted(from: index + 1) {
                tokens.append(Token(kind: .time, text: string(index + 2..<end - 1), offset: start))
                index = end
            } else if character == "'" {
                guard let end = quoted(from: index) else { throw fail("unterminated string") }
                tokens.append(Token(kind: .string, text: string(index + 1..<end - 1), offset: start))
                index = end
            } else if let end = range(from: index) {
                tokens.append(Token(kind: .range, text: string(index..<end), offset: start))
                index = end
            } else if let end = number(from: index) {
                tokens.append(Token(kind: .number, text: string(index..<end), offset: start))
                index = end
            } else if isLetter(character) {
                // One or two `.name` parts make a qualified name.
                var end = name(from: index)
                var parts = 0
                while parts < 2, at(end) == ".", let next = at(end + 1), isLetter(next) {
                    end = name(from: end + 1)
                    parts += 1
                }
                let word = string(index..<end)
                if parts > 0 {
                    tokens.append(Token(kind: .qualified, text: word, offset: start))
                } else if reserved.contains(word.uppercased()) {
                    tokens.append(Token(kind: .keyword, text: word.uppercased(), offset: start))
                } else {
                    tokens.append(Token(kind: .simple, text: word, offset: start))
                }
                index = end
            } else if character == ":", let next = at(index + 1), isLetter(next) {
                let end = name(from: index + 1)
                tokens.append(Token(kind: .bind, text: string(index + 1..<end), offset: start))
                index = end
            } else {
                let two = index + 1 < characters.count ? string(index..<index + 2) : ""
                if ["!=", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .symbol, text: two, offset: start))
                    index += 2
                } else if "()+*=<>-/%,".unicodeScalars.contains(character) {
                    tokens.append(Token(kind: .symbol, text: String(character), offset: start))
                    index += 1
                } else {
                    throw fail("unexpected character '\(character)'")
                }
            }
        }
        return tokens
    }
}

/// Where a where-expression stopped parsing: the cause of the ``ButlerError`` its parser throws,
/// for callers that show the place (the CLI's `--json` errors give it as `position`).
public struct WhereSyntaxError: Error, CustomStringConvertible, Sendable {
    /// The 1-based position (in Unicode scalars) of the character or token that failed.
    public let position: Int
    /// The expression.
    public let expression: String
    /// What was wrong there.
    public let reason: String

    public var description: String { "at position \(position)" }

    /// The error a parse failure at `offset` (0-based) throws.
    static func error(_ reason: String, at offset: Int, in text: String) -> ButlerError {
        ButlerError(
            .invalidQuery, "\(reason) in where-expression \"\(text)\"",
            cause: WhereSyntaxError(position: offset + 1, expression: text, reason: reason))
    }
}

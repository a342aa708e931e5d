public import Composites

/// A boolean expression over dimensions and record fields: daf_butler's `where` language,
/// parsed from text (`instrument = 'HSC' AND visit IN (42, 43) AND visit.exposure_time > 10`)
/// or built in code (``equal(_:_:)``, ``dataId(_:)``), then compiled to SQL per engine.
public indirect enum QueryExpression: Sendable, Equatable, CustomStringConvertible {
    /// A dimension (`visit`), a record field (`visit.exposure_time`) or a bind name.
    case identifier(String)
    /// A literal number, string or boolean.
    case literal(JSONValue)
    /// `lhs op rhs` with op one of `=`, `!=`, `<`, `<=`, `>`, `>=`.
    case comparison(String, QueryExpression, QueryExpression)
    /// `value [NOT] IN (items…)`.
    case membership(QueryExpression, [QueryExpression], negated: Bool)
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

    /// Both expressions, either of which may be absent.
    public static func conjunction(_ lhs: QueryExpression?, _ rhs: QueryExpression?) -> QueryExpression? {
        switch (lhs, rhs) {
        case (nil, nil): return nil
        case (let one?, nil), (nil, let one?): return one
        case (let a?, let b?): return .and(a, b)
        }
    }

    public var description: String {
        switch self {
        case .identifier(let name): return name
        case .literal(.string(let text)):
            // The language has no escapes: a literal holds at most one kind of quote (the
            // other one delimits it), so printing it with the other keeps it one literal.
            return text.unicodeScalars.contains("'") ? "\"\(text)\"" : "'\(text)'"
        case .literal(let value): return value.description
        case .comparison(let op, let lhs, let rhs): return "\(lhs.operandText) \(op) \(rhs.operandText)"
        case .membership(let value, let items, let negated):
            return "\(value.operandText) \(negated ? "NOT IN" : "IN") (\(items.map(\.description).joined(separator: ", ")))"
        case .and(let lhs, let rhs): return "(\(lhs) AND \(rhs))"
        case .or(let lhs, let rhs): return "(\(lhs) OR \(rhs))"
        case .not(let operand): return "NOT \(operand)"
        }
    }
}

extension QueryExpression {
    /// The text of an operand of a comparison or `IN`: parenthesized unless it is a name or a
    /// literal, so that `(a = b) = 1` or `(NOT a) = 1` print as what they are.
    fileprivate var operandText: String {
        switch self {
        case .identifier, .literal: return description
        default: return "(\(description))"
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
    /// Parses daf_butler's `where` syntax: comparisons, `IN`/`NOT IN` lists, `AND`, `OR`,
    /// `NOT`, parentheses, numbers, quoted strings, `TRUE`/`FALSE`.
    /// - Throws: ``ButlerError/Code/invalidQuery`` pointing at the offending position.
    public static func parse(_ text: String) throws -> QueryExpression {
        var parser = WhereParser(text: text)
        let expression = try parser.parseOr()
        if let token = parser.peek() {
            throw parser.error("unexpected '\(token.text)'", at: token.offset)
        }
        return expression
    }
}

private struct WhereParser {
    struct Token {
        enum Kind { case identifier, number, string, symbol, keyword }
        let kind: Kind
        let text: String
        let offset: Int
    }

    let text: String
    var tokens: [Token] = []
    var position = 0
    var tokenizeError: ButlerError?
    /// How deep parentheses and NOTs nest at the current position.
    var depth = 0
    /// The deepest nesting accepted: the parser, SQL rendering and descriptions recurse once
    /// per level, and thousands of levels would overflow a thread's stack.
    static let maxDepth = 64

    init(text: String) {
        self.text = text
        do { tokens = try Self.tokenize(text) } catch let error as ButlerError { tokenizeError = error } catch {}
    }

    func error(_ message: String, at offset: Int) -> ButlerError {
        ButlerError.query("\(message) at position \(offset + 1) of where-expression \"\(text)\"")
    }

    func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    mutating func next() -> Token? {
        defer { position += 1 }
        return peek()
    }

    mutating func accept(_ keywordOrSymbol: String) -> Bool {
        guard let token = peek(), token.kind == .keyword || token.kind == .symbol,
            token.text.uppercased() == keywordOrSymbol
        else { return false }
        position += 1
        return true
    }

    mutating func parseOr() throws -> QueryExpression {
        if let tokenizeError { throw tokenizeError }
        if tokens.isEmpty { throw error("empty expression", at: 0) }
        var terms = [try parseAnd()]
        while accept("OR") { terms.append(try parseAnd()) }
        return Self.balanced(terms[...], QueryExpression.or)
    }

    mutating func parseAnd() throws -> QueryExpression {
        var terms = [try parseNot()]
        while accept("AND") { terms.append(try parseNot()) }
        return Self.balanced(terms[...], QueryExpression.and)
    }

    /// A chain `a AND b AND c …` as a balanced tree: its depth grows with the logarithm of its
    /// length, so a long generated chain cannot make rendering recurse thousands of times.
    static func balanced(
        _ terms: ArraySlice<QueryExpression>, _ join: (QueryExpression, QueryExpression) -> QueryExpression
    ) -> QueryExpression {
        if terms.count == 1 { return terms[terms.startIndex] }
        let middle = terms.startIndex + terms.count / 2
        return join(balanced(terms[..<middle], join), balanced(terms[middle...], join))
    }

    /// Enters one level of nesting at `offset`, refusing more than ``maxDepth``.
    mutating func enter(at offset: Int) throws {
        depth += 1
        if depth > Self.maxDepth { throw error("the expression nests deeper than \(Self.maxDepth) levels", at: offset) }
    }

    mutating func parseNot() throws -> QueryExpression {
        if let token = peek(), accept("NOT") {
            try enter(at: token.offset)
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws -> QueryExpression {
        let lhs = try parseOperand()
        if let token = peek(), token.kind == .symbol, ["=", "!=", "<>", "<", "<=", ">", ">="].contains(token.text) {
            position += 1
            return .comparison(token.text == "<>" ? "!=" : token.text, lhs, try parseOperand())
        }
        let negated = accept("NOT")
        if accept("IN") {
            guard accept("(") else { throw error("expected '(' after IN", at: peek()?.offset ?? text.count) }
            var items = [try parseOperand()]
            while accept(",") { items.append(try parseOperand()) }
            guard accept(")") else { throw error("expected ')' to close IN list", at: peek()?.offset ?? text.count) }
            return .membership(lhs, items, negated: negated)
        }
        if negated { throw error("expected IN after NOT", at: peek()?.offset ?? text.count) }
        return lhs
    }

    mutating func parseOperand() throws -> QueryExpression {
        guard let token = next() else { throw error("unexpected end", at: text.count) }
        switch token.kind {
        case .identifier: return .identifier(token.text)
        case .string: return .literal(.string(token.text))
        case .number:
            if let int = Int64(token.text) { return .literal(.int(int)) }
            if let double = Double(token.text) {
                guard double.isFinite else { throw error("number '\(token.text)' is out of range", at: token.offset) }
                return .literal(.double(double))
            }
            throw error("bad number '\(token.text)'", at: token.offset)
        case .keyword:
            switch token.text.uppercased() {
            case "TRUE": return .literal(.bool(true))
            case "FALSE": return .literal(.bool(false))
            default: throw error("unexpected '\(token.text)'", at: token.offset)
            }
        case .symbol:
            if token.text == "(" {
                try enter(at: token.offset)
                defer { depth -= 1 }
                let inner = try parseOr()
                guard accept(")") else { throw error("expected ')'", at: peek()?.offset ?? text.count) }
                return inner
            }
            if token.text == "-", let number = peek(), number.kind == .number {
                position += 1
                return try Self.negate(number, parser: self)
            }
            throw error("unexpected '\(token.text)'", at: token.offset)
        }
    }

    static func negate(_ token: Token, parser: WhereParser) throws -> QueryExpression {
        if let int = Int64("-" + token.text) { return .literal(.int(int)) }
        if let double = Double("-" + token.text) { return .literal(.double(double)) }
        throw parser.error("bad number '-\(token.text)'", at: token.offset)
    }

    static let keywords: Set<String> = ["AND", "OR", "NOT", "IN", "TRUE", "FALSE"]

    static func tokenize(_ text: String) throws -> [Token] {
        // Unicode scalars, not Characters: a combining mark after a quote or a parenthesis
        // would otherwise fuse with it into one Character and hide it (found by FuzzWhere).
        let characters = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func fail(_ message: String) -> ButlerError {
            ButlerError.query("\(message) at position \(index + 1) of where-expression \"\(text)\"")
        }
        func string(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(characters[range])) }
        // Names and numbers are ASCII, as in daf_butler's grammar.
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { scalar.isASCII && scalar.properties.isAlphabetic }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar >= "0" && scalar <= "9" }
        while index < characters.count {
            let character = characters[index]
            if character.properties.isWhitespace {
                index += 1
                continue
            }
            let start = index
            if isLetter(character) || character == "_" {
                while index < characters.count
                    && (isLetter(characters[index]) || isDigit(characters[index]) || characters[index] == "_" || characters[index] == ".")
                {
                    index += 1
                }
                let word = string(start..<index)
                tokens.append(Token(kind: keywords.contains(word.uppercased()) ? .keyword : .identifier, text: word, offset: start))
            } else if isDigit(character) || (character == "." && index + 1 < characters.count && isDigit(characters[index + 1])) {
                while index < characters.count
                    && (isDigit(characters[index]) || characters[index] == "." || characters[index] == "e" || characters[index] == "E"
                        || ((characters[index] == "-" || characters[index] == "+")
                            && (characters[index - 1] == "e" || characters[index - 1] == "E")))
                {
                    index += 1
                }
                tokens.append(Token(kind: .number, text: string(start..<index), offset: start))
            } else if character == "'" || character == "\"" {
                index += 1
                let contentStart = index
                while index < characters.count && characters[index] != character { index += 1 }
                guard index < characters.count else { throw fail("unterminated string") }
                tokens.append(Token(kind: .string, text: string(contentStart..<index), offset: start))
                index += 1
            } else {
                let two = index + 1 < characters.count ? string(index..<index + 2) : ""
                if ["!=", "<>", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .symbol, text: two, offset: start))
                    index += 2
                } else if "=<>(),-".unicodeScalars.contains(character) {
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

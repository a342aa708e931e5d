import Composites
import Foundation

/// Builds the FROM clause and compiles ``QueryExpression``s for one query, joining dimension
/// tables only when an expression needs them (an implied dimension such as `band`, or a
/// record field such as `visit.exposure_time`).
struct QueryBuilder {
    let universe: DimensionUniverse
    let dialect: SQLDialect
    /// Dimensions the query is about; identifiers outside them are errors.
    var available: Set<String> = []
    /// SQL expression giving each dimension's value, once known.
    var sources: [String: String] = [:]
    var elementAliases: [String: String] = [:]
    var from: [String] = []
    var count = 0
    /// Exact region tests the SQL's coarse (pixel) spatial terms leave to the caller, with the
    /// region columns they read (``regionColumns``).
    var regionFilters: [RegionFilter] = []
    /// How deep inside OR or NOT the condition being compiled is: a region OVERLAPS needs an
    /// exact test after the SQL, which only a top-level AND term can have.
    var negationDepth = 0

    init(universe: DimensionUniverse, dialect: SQLDialect) {
        self.universe = universe
        self.dialect = dialect
    }

    var fromClause: String { from.joined(separator: " ") }

    /// Starts the query from `table AS alias`, whose columns give `dimensions`.
    mutating func base(table: String, alias: String, dimensions: [String]) {
        from.append("\(table) \(alias)")
        for name in dimensions { sources[name] = "\(alias).\(dialect.quote(name))" }
        available.formUnion(dimensions)
    }

    /// Joins `element`'s table (or starts from it), keyed on the known dimension sources;
    /// returns its alias. Its own and implied dimensions become known.
    @discardableResult
    mutating func joinElement(_ element: DimensionElement, keySources: [String: String]) -> String {
        if let alias = elementAliases[element.name] { return alias }
        count += 1
        let alias = "e\(count)"
        let keys = universe.requiredClosure(of: element) + (element.isDimension ? [element.name] : [])
        var conditions = keys.compactMap { name -> String? in
            guard let source = sources[name] ?? keySources[name] else { return nil }
            return "\(alias).\(dialect.quote(universe.column(for: name, in: element))) = \(source)"
        }
        // What the record implies must agree with the value the query already has (a visit's
        // physical_filter with a flat's, a physical_filter's band with a coadd's).
        for name in element.implies {
            if let source = sources[name] { conditions.append("\(alias).\(dialect.quote(name)) = \(source)") }
        }
        let table = Registry.dimensionTable(element.name)
        if from.isEmpty {
            from.append("\(table) \(alias)")
        } else if conditions.isEmpty {
            from.append("CROSS JOIN \(table) \(alias)")
        } else {
            from.append("JOIN \(table) \(alias) ON " + conditions.joined(separator: " AND "))
        }
        for name in keys where sources[name] == nil {
            sources[name] = "\(alias).\(dialect.quote(universe.column(for: name, in: element)))"
        }
        for name in element.implies where sources[name] == nil {
            sources[name] = "\(alias).\(dialect.quote(name))"
        }
        available.formUnion(keys)
        available.formUnion(element.implies)
        elementAliases[element.name] = alias
        return alias
    }

    /// Joins the records of dimensions that the joined elements imply when those records
    /// imply one of `names` (a visit's physical_filter, whose band must be a coadd's), so that
    /// the query's rows agree on them.
    mutating func joinImplied(agreeingWith names: Set<String>) {
        var frontier = Array(elementAliases.keys)
        while let joined = frontier.popLast() {
            guard let element = universe.elements[joined] else { continue }
            for implied in element.implies where elementAliases[implied] == nil && !names.contains(implied) {
                guard let impliedElement = universe.elements[implied], impliedElement.implies.contains(where: names.contains) else {
                    continue
                }
                joinElement(impliedElement, keySources: [:])
                frontier.append(implied)
            }
        }
    }

    /// The SQL giving `dimension`'s value, joining the table of a dimension that implies it.
    mutating func source(forDimension name: String, context: String) throws -> String {
        if let source = sources[name] { return source }
        guard available.contains(name) || implyingElement(of: name) != nil else {
            throw ButlerError(
                .invalidQuery, "\(context): dimension '\(name)' is not related to this query's dimensions \(available.sorted())",
                cause: UnrelatedDimension(name: name))
        }
        guard let implying = implyingElement(of: name) else {
            throw ButlerError.query("\(context): no table gives the value of '\(name)' here")
        }
        for key in universe.requiredClosure(of: implying) + [implying.name] where sources[key] == nil {
            _ = try source(forDimension: key, context: context)
        }
        joinElement(implying, keySources: [:])
        guard let source = sources[name] else { throw ButlerError.query("\(context): cannot resolve '\(name)'") }
        return source
    }

    /// A dimension among the available ones (or reachable from them) whose record implies `name`.
    private func implyingElement(of name: String) -> DimensionElement? {
        var reachable = available
        var changed = true
        while changed {
            changed = false
            for dimension in reachable {
                for implied in universe.elements[dimension]?.implies ?? [] where !reachable.contains(implied) {
                    reachable.insert(implied)
                    changed = true
                }
            }
        }
        return universe.order.lazy.compactMap { universe.elements[$0] }
            .first { reachable.contains($0.name) && $0.implies.contains(name) }
    }

    /// The SQL for a record field `element.field` of a dimension in the query.
    mutating func source(forField element: String, _ field: String, context: String) throws -> (String, FieldType) {
        guard let target = universe.elements[element], !target.isSkypix else {
            throw ButlerError.query("\(context): '\(element)' is not a dimension element")
        }
        let columns = universe.recordColumns(of: target)
        guard let column = columns.first(where: { $0.name == field }) else {
            throw ButlerError.query(
                "\(context): '\(element)' has no field '\(field)'; fields are \(columns.map(\.name).joined(separator: ", "))")
        }
        for key in universe.requiredClosure(of: target) + (target.isDimension ? [element] : []) where sources[key] == nil {
            _ = try source(forDimension: key, context: context)
        }
        let alias = joinElement(target, keySources: [:])
        return ("\(alias).\(dialect.quote(field))", column.type)
    }

    /// Compiled SQL and its bound arguments.
    struct Compiled {
        let sql: String
        let arguments: [SQLValue]
    }

    /// The alias of the tag table of a dataset query: with it, `dataset_id` and `ingest_date`
    /// name the dataset's ID and ingest time (the `dataset` table joined when used).
    var datasetAlias: String?
    private var joinedDatasetTable = false
    /// The queried dataset type's declared fields and the table holding their values: with
    /// them, `type.field` names a field (the table joined when used).
    var datasetFields: (typeName: String, table: String, fields: [DatasetField])?
    private var joinedFieldTable = false

    /// Compiles `expression` to SQL, resolving identifiers to dimensions, fields or `bind`
    /// values, and converting literals to each dimension's type.
    /// - Throws: ``ButlerError/Code/invalidQuery`` also for a bind value the expression does
    ///   not use (a misspelt `:name` would otherwise be silently ignored).
    mutating func compile(_ expression: QueryExpression, bind: [String: BindValue], context: String) throws -> Compiled {
        var arguments: [SQLValue] = []
        let sql = try condition(expression, bind: bind, context: context, arguments: &arguments)
        let unused = Set(bind.keys).subtracting(usedBinds)
        if !unused.isEmpty {
            throw ButlerError.query(
                "\(context): bind values \(unused.sorted().map { ":" + $0 }.joined(separator: ", ")) are not used in '\(expression)'")
        }
        return Compiled(sql: sql, arguments: arguments)
    }

    /// The bind names the compiled expression used.
    var usedBinds = Set<String>()

    /// What an expression stands for inside a condition.
    enum Operand {
        /// SQL of a known type, whose arguments are already bound.
        case column(String, FieldType)
        /// A value not yet bound: bound when what it is compared with gives its type.
        case value(JSONValue)
        /// SQL giving TAI nanoseconds (a record's timespan bound, `ingest_date`).
        case timeColumn(String)
        /// A time literal.
        case time(AstroTime)
        /// A record's timespan: its two bound columns.
        case timespanColumns(begin: String, end: String)
        /// A literal timespan `(T'…', T'…')`.
        case timespan(Timespan)
        /// A range literal, for IN.
        case range(Int64, Int64, Int64?)
        /// A dataset ID.
        case uuid(UUID)
        /// SQL giving a dataset ID (compared with UUIDs, or strings holding one).
        case datasetId(String)
    }

    private func describe(_ expression: QueryExpression) -> String { "'\(expression)'" }

    /// The operand an expression stands for.
    private mutating func operand(
        _ expression: QueryExpression, bind: [String: BindValue], context: String, arguments: inout [SQLValue]
    ) throws -> Operand {
        switch expression {
        case .literal(let value): return .value(value)
        case .time(let time): return .time(time)
        case .uuid(let uuid): return .uuid(uuid)
        case .range(let start, let stop, let stride): return .range(start, stop, stride)
        case .bind(let name):
            usedBinds.insert(name)
            guard let value = bind[name] else {
                throw ButlerError.query(
                    "\(context): no value bound to :\(name) (bind names: \(bind.keys.sorted().joined(separator: ", ")))")
            }
            guard let scalar = value.scalar else {
                throw ButlerError.query("\(context): :\(name) is bound to a list or a region, which only IN (…) or OVERLAPS can take")
            }
            return .value(scalar)
        case .identifier(let name): return try identifier(name, bind: bind, context: context)
        case .positive(let inner):
            let value = try operand(inner, bind: bind, context: context, arguments: &arguments)
            switch value {
            case .value(.int), .value(.double): return value
            case .column(_, let type) where type == .int || type == .float: return value
            default: throw ButlerError.query("\(context): \(describe(expression)) applies + to something that is not a number")
            }
        case .negation(let inner):
            switch try operand(inner, bind: bind, context: context, arguments: &arguments) {
            case .value(.int(let int)) where int != .min: return .value(.int(-int))
            case .value(.double(let double)): return .value(.double(-double))
            case .column(let sql, let type) where type == .int || type == .float: return .column("(-\(sql))", type)
            default: throw ButlerError.query("\(context): \(describe(expression)) negates something that is not a number")
            }
        case .arithmetic(let op, let lhs, let rhs):
            let left = try operand(lhs, bind: bind, context: context, arguments: &arguments)
            let leftSQL = try numeric(left, expression: lhs, context: context, arguments: &arguments, type: nil)
            let right = try operand(rhs, bind: bind, context: context, arguments: &arguments)
            let rightSQL = try numeric(right, expression: rhs, context: context, arguments: &arguments, type: leftSQL.type)
            let type: FieldType = leftSQL.type == .float || rightSQL.type == .float ? .float : .int
            return .column("(\(leftSQL.sql) \(op) \(rightSQL.sql))", type)
        case .tuple(let first, let second):
            let begin = try operand(first, bind: bind, context: context, arguments: &arguments)
            let end = try operand(second, bind: bind, context: context, arguments: &arguments)
            guard case .time(let from) = begin, case .time(let to) = end else {
                throw ButlerError.query("\(context): a pair \(describe(expression)) must be two time literals (a timespan)")
            }
            return .timespan(Timespan(nanoseconds: from.taiNanoseconds, to.taiNanoseconds))
        default:
            throw ButlerError.query("\(context): expected a value or column, got \(describe(expression))")
        }
    }

    /// A numeric operand of arithmetic as SQL (binding a value).
    private func numeric(
        _ operand: Operand, expression: QueryExpression, context: String, arguments: inout [SQLValue], type: FieldType?
    ) throws -> (sql: String, type: FieldType) {
        switch operand {
        case .column(let sql, let columnType) where columnType == .int || columnType == .float: return (sql, columnType)
        case .value(.int(let int)):
            arguments.append(.integer(int))
            return ("?", .int)
        case .value(.double(let double)):
            arguments.append(.real(double))
            return ("?", .float)
        default:
            throw ButlerError.query("\(context): arithmetic on \(describe(expression)), which is not a number")
        }
    }

    /// A name: a bind given without a colon, a dimension, a dataset column, a record field
    /// (`visit.exposure_time`), a record's timespan or one of its bounds
    /// (`visit.timespan`, `visit.timespan.begin`), or `TRUE`/`FALSE`.
    private mutating func identifier(_ name: String, bind: [String: BindValue], context: String) throws -> Operand {
        if let value = bind[name] {
            usedBinds.insert(name)
            guard let scalar = value.scalar else {
                throw ButlerError.query("\(context): \(name) is bound to a list, which only an IN (…) list can take")
            }
            return .value(scalar)
        }
        let resolved = universe.aliases[name] ?? name
        if let element = universe.elements[resolved], element.isDimension {
            return .column(try source(forDimension: resolved, context: context), element.primaryKey!.type)
        }
        if let alias = datasetAlias, name == "dataset_id" { return .datasetId("\(alias).dataset_id") }
        if let alias = datasetAlias, name == "ingest_date" {
            if !joinedDatasetTable {
                from.append("JOIN dataset ds ON ds.id = \(alias).dataset_id")
                joinedDatasetTable = true
            }
            return .timeColumn("ds.ingest_date")
        }
        let parts = name.split(separator: ".").map(String.init)
        if let alias = datasetAlias, let declared = datasetFields, parts.count == 2, parts[0] == declared.typeName {
            guard let field = declared.fields.first(where: { $0.name == parts[1] }) else {
                throw ButlerError.query(
                    "\(context): \(declared.typeName) declares no field '\(parts[1])'"
                        + (declared.fields.isEmpty ? "" : " (its fields: \(declared.fields.map(\.name).joined(separator: ", ")))"))
            }
            if !joinedFieldTable {
                // A LEFT JOIN: a dataset never indexed has NULLs, which no comparison matches.
                from.append("LEFT JOIN \(declared.table) df ON df.dataset_id = \(alias).dataset_id")
                joinedFieldTable = true
            }
            return .column("df.\(dialect.quote(field.name))", field.type)
        }
        if datasetAlias != nil, parts.count == 2, universe.elements[universe.aliases[parts[0]] ?? parts[0]] == nil {
            // Another dataset type's field, in a query over several types: not this type's.
            throw ButlerError(
                .invalidQuery,
                "\(context): '\(name)' is neither a record field nor a field of \(datasetFields?.typeName ?? "this dataset type")",
                cause: UnrelatedDimension(name: parts[0]))
        }
        if parts.count >= 2 {
            let elementName = universe.aliases[parts[0]] ?? parts[0]
            if parts[1] == "timespan", let element = universe.elements[elementName], element.hasTimespan {
                let begin = try source(forField: elementName, "timespan_begin", context: context).0
                let end = try source(forField: elementName, "timespan_end", context: context).0
                switch parts.count == 3 ? parts[2] : nil {
                case nil: return .timespanColumns(begin: begin, end: end)
                case "begin"?: return .timeColumn(begin)
                case "end"?: return .timeColumn(end)
                default:
                    throw ButlerError.query("\(context): a timespan has fields begin and end, not '\(parts[2])' in '\(name)'")
                }
            }
            if parts.count == 2 {
                let (sql, type) = try source(forField: elementName, parts[1], context: context)
                return .column(sql, type)
            }
        }
        switch name.uppercased() {
        case "TRUE": return .value(.bool(true))
        case "FALSE": return .value(.bool(false))
        default:
            throw ButlerError.query(
                "\(context): unknown identifier '\(name)' (not a dimension, a record field, a dataset field or a bind name)")
        }
    }

    private func argument(_ value: JSONValue, for type: FieldType?, context: String) throws -> SQLValue {
        switch (type, value) {
        case (.int?, .string(let text)):
            guard let int = Int64(text) else { throw ButlerError.query("\(context): '\(text)' is not an integer") }
            return .integer(int)
        case (.int?, .double(let double)):
            // An integer column compared with a fraction: the comparison stays numeric.
            return .real(double)
        case (.string?, .int(let int)): return .text(String(int))
        case (.string?, .double), (.string?, .bool):
            throw ButlerError.query("\(context): \(value) compared with a text column")
        case (.int?, .bool), (.float?, .bool), (.float?, .string):
            throw ButlerError.query("\(context): \(value) compared with a numeric column")
        case (_, .int(let int)): return .integer(int)
        case (_, .double(let double)): return .real(double)
        case (_, .string(let text)): return .text(text)
        case (_, .bool(let bool)): return .integer(bool ? 1 : 0)
        case (_, .null): return .null
        default: throw ButlerError.query("\(context): unsupported literal \(value)")
        }
    }

    /// SQL for a boolean expression.
    private mutating func condition(
        _ expression: QueryExpression, bind: [String: BindValue], context: String, arguments: inout [SQLValue]
    ) throws -> String {
        switch expression {
        case .and(let lhs, let rhs):
            let left = try condition(lhs, bind: bind, context: context, arguments: &arguments)
            return "(\(left) AND \(try condition(rhs, bind: bind, context: context, arguments: &arguments)))"
        case .or(let lhs, let rhs):
            negationDepth += 1
            defer { negationDepth -= 1 }
            let left = try condition(lhs, bind: bind, context: context, arguments: &arguments)
            return "(\(left) OR \(try condition(rhs, bind: bind, context: context, arguments: &arguments)))"
        case .not(let operand):
            negationDepth += 1
            defer { negationDepth -= 1 }
            return "(NOT \(try condition(operand, bind: bind, context: context, arguments: &arguments)))"
        case .comparison("OVERLAPS", let lhs, let rhs):
            if let spatial = try spatialOverlaps(lhs, rhs, bind: bind, context: context, arguments: &arguments) { return spatial }
            let left = try operand(lhs, bind: bind, context: context, arguments: &arguments)
            let right = try operand(rhs, bind: bind, context: context, arguments: &arguments)
            return try overlaps(left, right, expression: expression, context: context, arguments: &arguments)
        case .comparison(let op, let lhs, let rhs):
            let left = try operand(lhs, bind: bind, context: context, arguments: &arguments)
            let right = try operand(rhs, bind: bind, context: context, arguments: &arguments)
            return try comparison(op, left, right, expression: expression, context: context, arguments: &arguments)
        case .membership(let value, let items, let negated):
            return try membership(value, items, negated: negated, bind: bind, context: context, arguments: &arguments)
        case .glob(let subject, let pattern):
            guard case .column(let column, .string) = try operand(subject, bind: bind, context: context, arguments: &arguments) else {
                throw ButlerError.query("\(context): GLOB applies to a text column, not \(describe(subject))")
            }
            guard case .value(.string(let glob)) = try operand(pattern, bind: bind, context: context, arguments: &arguments) else {
                throw ButlerError.query("\(context): a GLOB pattern is a string, not \(describe(pattern))")
            }
            // `*` any text, `?` one character; everything else stands for itself.
            switch dialect {
            case .sqlite:
                arguments.append(.text(glob.replacingOccurrences(of: "[", with: "[[]")))
                return "\(column) GLOB ?"
            default:
                var like = ""
                for character in glob {
                    switch character {
                    case "*": like += "%"
                    case "?": like += "_"
                    case "%", "_", "\\": like += "\\" + String(character)
                    default: like.append(character)
                    }
                }
                arguments.append(.text(like))
                return "\(column) LIKE ? ESCAPE '\\'"
            }
        case .literal(.bool(let bool)):
            return bool ? "1 = 1" : "1 = 0"
        case .identifier(let name) where ["TRUE", "FALSE"].contains(name.uppercased()):
            if case .value(.bool(let bool)) = try identifier(name, bind: bind, context: context) { return bool ? "1 = 1" : "1 = 0" }
            throw ButlerError.query("\(context): \(describe(expression)) is not a condition")
        case .function(let name, _):
            throw ButlerError.query("\(context): \(name.uppercased())(…) is not a condition (a sky region goes with OVERLAPS)")
        default:
            throw ButlerError.query("\(context): \(describe(expression)) is not a condition")
        }
    }

    private mutating func comparison(
        _ op: String, _ left: Operand, _ right: Operand, expression: QueryExpression, context: String, arguments: inout [SQLValue]
    ) throws -> String {
        let sqlOp = op == "!=" ? "<>" : op
        func bindTime(_ time: AstroTime) -> String {
            arguments.append(.integer(time.taiNanoseconds))
            return "?"
        }
        switch (left, right) {
        case (.column(let a, _), .column(let b, _)):
            return "\(a) \(sqlOp) \(b)"
        case (.column(let column, let type), .value(let value)):
            arguments.append(try argument(value, for: type, context: context))
            return "\(column) \(sqlOp) ?"
        case (.value(let value), .column(let column, let type)):
            arguments.append(try argument(value, for: type, context: context))
            return "? \(sqlOp) \(column)"
        case (.value(let a), .value(let b)):
            arguments.append(try argument(a, for: nil, context: context))
            arguments.append(try argument(b, for: nil, context: context))
            return "? \(sqlOp) ?"
        case (.timeColumn(let column), .time(let time)):
            return "\(column) \(sqlOp) \(bindTime(time))"
        case (.time(let time), .timeColumn(let column)):
            return "\(bindTime(time)) \(sqlOp) \(column)"
        case (.column(let column, .int), .time(let time)):
            return "\(column) \(sqlOp) \(bindTime(time))"
        case (.time(let time), .column(let column, .int)):
            return "\(bindTime(time)) \(sqlOp) \(column)"
        case (.timeColumn(let a), .timeColumn(let b)):
            return "\(a) \(sqlOp) \(b)"
        case (.time(let a), .time(let b)):
            return "\(bindTime(a)) \(sqlOp) \(bindTime(b))"
        case (.timespanColumns(let begin, let end), .time(let time)) where op == "<" || op == ">":
            // daf_butler: a timespan is before a time when it ends at or before it, after it
            // when it begins after it.
            return op == "<" ? "\(end) <= \(bindTime(time))" : "\(begin) > \(bindTime(time))"
        case (.time(let time), .timespanColumns(let begin, let end)) where op == "<" || op == ">":
            return op == "<" ? "\(bindTime(time)) < \(begin)" : "\(bindTime(time)) >= \(end)"
        case (.uuid(let uuid), .datasetId(let column)), (.datasetId(let column), .uuid(let uuid)):
            guard op == "=" || op == "!=" else { throw ButlerError.query("\(context): a dataset ID compares with = or != only") }
            arguments.append(.uuid(uuid))
            return "\(column) \(sqlOp) ?"
        case (.value(.string(let text)), .datasetId(let column)), (.datasetId(let column), .value(.string(let text))):
            guard op == "=" || op == "!=", let uuid = UUID(uuidString: text) else {
                throw ButlerError.query("\(context): a dataset ID compares (= or !=) with a UUID, not '\(text)'")
            }
            arguments.append(.uuid(uuid))
            return "\(column) \(sqlOp) ?"
        default:
            throw ButlerError.query("\(context): cannot compare \(describe(expression)): the two sides are of different kinds")
        }
    }

    /// `a OVERLAPS b` for timespans (a time is the instant at it); empty overlaps nothing.
    private func overlaps(
        _ left: Operand, _ right: Operand, expression: QueryExpression, context: String, arguments: inout [SQLValue]
    )
        throws -> String
    {
        /// SQL of a side's begin and end, binding literals in the order the SQL will use them.
        func bounds(_ operand: Operand) throws -> (begin: SQLValue?, beginSQL: String?, end: SQLValue?, endSQL: String?) {
            switch operand {
            case .timespanColumns(let begin, let end): return (nil, begin, nil, end)
            case .timespan(let span): return (.integer(span.beginNanoseconds), nil, .integer(span.endNanoseconds), nil)
            case .time(let time): return (.integer(time.taiNanoseconds), nil, .integer(time.taiNanoseconds + 1), nil)
            default: throw ButlerError.query("\(context): OVERLAPS relates timespans and times, not the sides of \(describe(expression))")
            }
        }
        let a = try bounds(left)
        let b = try bounds(right)
        func sql(_ value: SQLValue?, _ column: String?) -> String {
            if let value {
                arguments.append(value)
                return "?"
            }
            return column!
        }
        // [a.begin, a.end) and [b.begin, b.end) share an instant: each begins before the other
        // ends (an empty timespan is stored as (max, min), which satisfies neither).
        let first = "\(sql(a.begin, a.beginSQL)) < \(sql(b.end, b.endSQL))"
        let second = "\(sql(b.begin, b.beginSQL)) < \(sql(a.end, a.endSQL))"
        return "(\(first) AND \(second))"
    }

    private mutating func membership(
        _ value: QueryExpression, _ items: [QueryExpression], negated: Bool, bind: [String: BindValue], context: String,
        arguments: inout [SQLValue]
    ) throws -> String {
        // The subject's own arguments (a computed subject binds values) are bound again each
        // time a range repeats its SQL.
        var subjectArguments: [SQLValue] = []
        let subject = try operand(value, bind: bind, context: context, arguments: &subjectArguments)
        let column: String
        let type: FieldType?
        switch subject {
        case .column(let sql, let columnType): (column, type) = (sql, columnType)
        case .timeColumn(let sql): (column, type) = (sql, .int)
        case .datasetId(let sql): (column, type) = (sql, nil)
        default:
            throw ButlerError.query("\(context): the left side of IN must be a dimension or field, not \(describe(value))")
        }
        let isDatasetId: Bool
        if case .datasetId = subject { isDatasetId = true } else { isDatasetId = false }
        var listed: [SQLValue] = []
        var ranges: [(sql: String, arguments: [SQLValue])] = []
        // A name bound to a list stands for its elements.
        let expanded = items.flatMap { item -> [QueryExpression] in
            switch item {
            case .bind(let name), .identifier(let name):
                if case .list(let elements) = bind[name] {
                    usedBinds.insert(name)
                    return elements.compactMap { $0.scalar.map(QueryExpression.literal) }
                }
                return [item]
            default: return [item]
            }
        }
        if expanded.isEmpty { return negated ? "1 = 1" : "1 = 0" }
        for item in expanded {
            var unused: [SQLValue] = []
            switch try operand(item, bind: bind, context: context, arguments: &unused) {
            case .value(.string(let text)) where isDatasetId:
                guard let uuid = UUID(uuidString: text) else { throw ButlerError.query("\(context): '\(text)' is not a dataset ID") }
                listed.append(.uuid(uuid))
            case .value(let literal): listed.append(try argument(literal, for: type, context: context))
            case .time(let time): listed.append(.integer(time.taiNanoseconds))
            case .uuid(let uuid): listed.append(.uuid(uuid))
            case .range(let start, let stop, let stride):
                guard type == .int else { throw ButlerError.query("\(context): a range applies to an integer, not \(describe(value))") }
                var sql = "(\(column) >= ? AND \(column) <= ?"
                var rangeArguments = subjectArguments + [.integer(start)] + subjectArguments + [.integer(stop)]
                if let stride, stride > 1 {
                    sql += " AND (\(column) - ?) % ? = 0"
                    rangeArguments += subjectArguments + [.integer(start), .integer(stride)]
                }
                ranges.append((sql + ")", rangeArguments))
            default:
                throw ButlerError.query("\(context): IN lists hold values, ranges, times and UUIDs, not \(describe(item))")
            }
        }
        var terms: [String] = []
        if !listed.isEmpty {
            terms.append("\(column) IN (\(Array(repeating: "?", count: listed.count).joined(separator: ", ")))")
            arguments += subjectArguments + listed
        }
        for range in ranges {
            terms.append(range.sql)
            arguments += range.arguments
        }
        let any = terms.count == 1 ? terms[0] : "(" + terms.joined(separator: " OR ") + ")"
        return negated ? "(NOT \(any))" : any
    }
}

/// A constraint names a dimension the queried rows do not have (the cause of that error): a
/// query over several dataset types skips the types it does not apply to, as daf_butler does.
struct UnrelatedDimension: Error, CustomStringConvertible {
    let name: String
    var description: String { "\(name) is not a dimension of these rows" }
}

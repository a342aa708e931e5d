import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation
import Sky
import SwiftCSV

struct IngestRefcat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-refcat",
        abstract: "Ingest a reference catalog (FITS binary table or CSV of numbers) as shards by the common sky pixelization (htm7).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The reference catalog's dataset type name (e.g. gaia_dr3).") var name: String
    @Argument(help: "A .fits file (first binary table) or a .csv file with a header row; every column numeric.") var file: String
    @Option(name: .long, help: "RUN collection of this version (default: refcats/<name>).") var run: String?
    @Option(name: .customLong("ra-column"), help: "Column of right ascension, degrees.") var raColumn = "ra"
    @Option(name: .customLong("dec-column"), help: "Column of declination, degrees.") var decColumn = "dec"

    func run() async throws {
        let catalog = try Self.read(file)
        let refs = try await withButler(repo) { butler in
            try await butler.ingestReferenceCatalog(
                name, catalog: catalog, raColumn: raColumn, decColumn: decColumn, run: run ?? "refcats/\(name)")
        }
        print("Ingested \(catalog.count) row(s) of \(file) as \(refs.count) \(name) shard(s) into \(run ?? "refcats/\(name)")")
    }

    /// A catalog from a FITS binary table or a CSV file of numbers.
    static func read(_ path: String) throws -> SourceCatalog {
        if path.lowercased().hasSuffix(".csv") {
            let table: EnumeratedCSV
            do { table = try EnumeratedCSV(url: URL(fileURLWithPath: path), loadColumns: false) } catch {
                throw CommandFailure("cannot read \(path): \(error)")
            }
            let names = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
            var columns = [[Double]](repeating: [], count: names.count)
            for (index, row) in table.rows.enumerated() where !row.allSatisfy({ $0.isEmpty }) {
                guard row.count == names.count else {
                    throw CommandFailure("\(path) row \(index + 2) has \(row.count) columns; the header has \(names.count)")
                }
                for (column, text) in row.enumerated() {
                    guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                        throw CommandFailure("\(path) row \(index + 2) column \(names[column]): '\(text)' is not a number")
                    }
                    columns[column].append(value)
                }
            }
            return try SourceCatalog(columns: Dictionary(zip(names, columns), uniquingKeysWith: { first, _ in first }))
        }
        return try FITSCatalog.read(from: path)
    }
}

struct QueryRefcat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query-refcat", abstract: "List the rows of a reference catalog within a circle (from the shards its envelope meets).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The reference catalog's dataset type name.") var name: String
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, help: "The circle: RA,DEC,RADIUS in degrees.") var circle: String
    @Option(name: .customLong("ra-column"), help: "Column of right ascension, degrees.") var raColumn = "ra"
    @Option(name: .customLong("dec-column"), help: "Column of declination, degrees.") var decColumn = "dec"
    @Option(name: .shortAndLong, help: "Write the rows to this .fits or .csv file instead of printing them.") var output: String?
    @OptionGroup var format: OutputOptions

    func run() async throws {
        let parts = circle.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let ra = parts[0], let dec = parts[1], let radius = parts[2] else {
            throw ValidationError("--circle takes RA,DEC,RADIUS in degrees, got '\(circle)'")
        }
        let center: LonLat
        do { center = try LonLat(lonDegrees: ra, latDegrees: dec) } catch { throw ValidationError("--circle: \(error)") }
        let rows = try await withButler(repo) { butler in
            try await butler.loadReferenceCatalog(
                name, center: center, radiusDegrees: radius, collections: collections.list.isEmpty ? ["refcats/\(name)"] : collections.list,
                raColumn: raColumn, decColumn: decColumn)
        }
        let names = rows.columns.keys.sorted {
            ($0 == raColumn ? 0 : $0 == decColumn ? 1 : 2, $0) < ($1 == raColumn ? 0 : $1 == decColumn ? 1 : 2, $1)
        }
        if let output {
            if output.lowercased().hasSuffix(".csv") {
                var text = names.joined(separator: ",") + "\n"
                for row in 0..<rows.count { text += names.map { String(rows.columns[$0]![row]) }.joined(separator: ",") + "\n" }
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                try FITSCatalog.write(rows, to: output)
            }
            print("Wrote \(rows.count) row(s) of \(name) to \(output)")
            return
        }
        var table = Rows(columns: names)
        for row in 0..<rows.count { table.append(names.map { .double(rows.columns[$0]![row]) }) }
        table.print(json: format.json)
    }
}

import Composites
import Foundation
import Sky

/// Many records of one element written at once: what a skymap's 10⁶ patches need. The rows come
/// from code (their values are already of the column types), so they skip the per-record
/// validation of ``insertDimensionRecords(_:element:records:mode:)`` and go out as multi-row
/// statements, with their overlap rows likewise.
extension Registry {
    /// Rows per statement: within SQLite's and PostgreSQL's bound-parameter limits for every
    /// element's column count.
    static let bulkRowsPerStatement = 400

    /// Inserts `rows` (values by column name; a region column holds sphgeom base64 text) of
    /// `element`, and their common-skypix overlaps from `pixels[i]`, the envelope of row i's
    /// region computed beforehand (nil for a row without one) so the geometry can run on other
    /// threads. An existing key is an error, as for a plain insert.
    func insertRecordsInBulk(_ session: any SQLSession, element name: String, rows: [[String: SQLValue]], pixels: [RangeSet?]) throws {
        let element = try universe.element(name)
        let columns = universe.recordColumns(of: element)
        let names = columns.map { dialect.quote($0.name) }
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        for start in stride(from: 0, to: rows.count, by: Self.bulkRowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + Self.bulkRowsPerStatement)]
            do {
                try session.execute(
                    "INSERT INTO \(Self.dimensionTable(name)) (\(names.joined(separator: ", "))) VALUES "
                        + Array(repeating: placeholders, count: chunk.count).joined(separator: ", "),
                    chunk.flatMap { row in columns.map { row[$0.name] ?? .null } })
            } catch let error as SQLError where error.isConstraintViolation {
                throw ButlerError.dimensionRecord(
                    "\(name) records \(start)–\(start + chunk.count - 1) clash with existing ones: \(error.message)")
            }
        }
        guard universe.regionField(of: element) != nil else { return }
        let identifying = universe.identifyingColumns(of: element)
        let keyColumns = identifying.map { dialect.quote($0) }
        let overlapPlaceholders = "(" + Array(repeating: "?", count: keyColumns.count + 1).joined(separator: ", ") + ")"
        var pending: [SQLValue] = []
        var pendingRows = 0
        func flush() throws {
            guard pendingRows > 0 else { return }
            try session.execute(
                "INSERT INTO \(DimensionUniverse.overlapTable(name)) (\(keyColumns.joined(separator: ", ")), skypix_index) VALUES "
                    + Array(repeating: overlapPlaceholders, count: pendingRows).joined(separator: ", "),
                pending)
            pending.removeAll(keepingCapacity: true)
            pendingRows = 0
        }
        for (row, envelope) in zip(rows, pixels) {
            guard let envelope else { continue }
            let key = identifying.map { row[$0] ?? .null }
            for range in envelope.ranges {
                for pixel in range.0..<range.1 {
                    pending += key
                    pending.append(.integer(Int64(pixel)))
                    pendingRows += 1
                    if pendingRows == Self.bulkRowsPerStatement { try flush() }
                }
            }
        }
        try flush()
    }
}

import ArgumentParser
import Butler
import ButlerZip
import Foundation
import SwiftCSV

struct IngestFiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-files",
        abstract: "Ingest files listed in a CSV table: first column the file, other columns dimension values.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type (registered).") var datasetType: String
    @Argument(help: "The RUN collection to ingest into.") var run: String
    @Argument(help: "CSV file with a header row: file path, then one column per dimension.") var tableFile: String
    @Option(name: .customLong("data-id"), parsing: .singleValue, help: "Dimension values common to every file, KEY=VALUE (repeatable).")
    var dataIds: [String] = []
    @Option(name: .long, help: "Formatter name (default: from configuration or the file extension).") var formatter: String?
    @Option(name: .customLong("id-generation-mode"), help: "unique, dataid_type or dataid_type_run.") var idGenerationMode = "unique"
    @Option(name: .long, help: "Prefix for relative paths in the table (default: the table's directory).") var prefix: String?
    @Option(name: .long, help: "copy, move, symlink, hardlink or direct.") var transfer = "copy"
    @OptionGroup var existing: ExistingDatasetOptions

    func run() async throws {
        guard let mode = TransferMode(rawValue: transfer) else {
            throw ValidationError(
                "unknown transfer '\(transfer)'; use one of \(TransferMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let idMode = DatasetIdGenerationMode(rawValue: idGenerationMode.lowercased()) else {
            throw ValidationError("unknown id generation mode '\(idGenerationMode)'; use unique, dataid_type or dataid_type_run")
        }
        let tableURL = URL(fileURLWithPath: tableFile)
        let base = prefix.map { URL(fileURLWithPath: $0) } ?? tableURL.deletingLastPathComponent()
        let common = try parseDataId(dataIds)
        let table: EnumeratedCSV
        do { table = try EnumeratedCSV(url: tableURL, loadColumns: false) } catch {
            throw CommandFailure("cannot read table \(tableFile): \(error)")
        }
        guard table.header.count >= 1 else { throw CommandFailure("table \(tableFile) has no header row") }
        // A table whose first row names a file has no header: its first file would be taken
        // as column names and silently not ingested.
        if let first = table.header.first?.trimmingCharacters(in: .whitespaces), !first.isEmpty,
            FileManager.default.fileExists(atPath: first.hasPrefix("/") ? first : base.appendingPathComponent(first).path)
        {
            throw CommandFailure(
                "table \(tableFile) has no header row: its first row names the file \(first); add a header (file, then one column per dimension)"
            )
        }
        let dimensions = table.header.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        var files: [FileToIngest] = []
        for (index, row) in table.rows.enumerated() where !row.allSatisfy({ $0.isEmpty }) {
            guard row.count == table.header.count else {
                throw CommandFailure("\(tableFile) row \(index + 2) has \(row.count) columns; the header has \(table.header.count)")
            }
            var dataId = common
            for (name, value) in zip(dimensions, row.dropFirst()) {
                let text = value.trimmingCharacters(in: .whitespaces)
                dataId[name] = Int64(text).map(DataIdValue.int) ?? .string(text)
            }
            let path = row[0].trimmingCharacters(in: .whitespaces)
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
            files.append(FileToIngest(url: url, dataId: dataId))
        }
        guard !files.isEmpty else {
            throw CommandFailure("table \(tableFile) lists no files (a header row, then one row per file)")
        }
        let refs = try await withButler(repo) { butler in
            try await butler.ingest(
                files, datasetType: datasetType, run: run, transfer: mode, idGenerationMode: idMode, formatter: formatter,
                ifExists: try existing.policy(), extendRun: existing.extendRun)
        }
        print("Ingested \(refs.count) file(s) into \(run)")
    }
}

struct RetrieveArtifacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve-artifacts",
        abstract: "Copy the artifacts of datasets found by a query into a directory, or into one Zip (daf_butler's, with its index).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Destination directory.") var destination: String
    @Option(name: .customLong("dataset-type"), parsing: .singleValue, help: "Dataset types (repeatable; all when none).")
    var datasetTypes: [String] = []
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var constraints: ConstraintOptions
    @Flag(name: .customLong("find-first"), help: "Only the first dataset per data ID.") var findFirst = false
    @Flag(inversion: .prefixedNo, help: "Keep each artifact's path relative to the datastore root.") var preservePath = true
    @Flag(name: .long, help: "Overwrite files that exist at the destination.") var clobber = false
    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Write one Zip in the destination (named by its contents, with daf_butler's _butler_zip_index.json) instead of files.")
    var zip = false

    func run() async throws {
        let written = try await withButler(repo, writeable: false) { butler in
            let refs = try await butler.queryDatasets(
                splitCommas(datasetTypes), collections: collections.list.isEmpty ? ["*"] : collections.list,
                where: constraints.where, dataId: try constraints.dataId(), bind: try constraints.binds(), findFirst: findFirst)
            if zip {
                guard !refs.isEmpty else { throw CommandFailure("no datasets match; no Zip written") }
                return [try await butler.retrieveArtifactsZip(refs, destination: URL(fileURLWithPath: destination), overwrite: clobber)]
            }
            return try await butler.retrieveArtifacts(
                refs, destination: URL(fileURLWithPath: destination), preservePath: preservePath, overwrite: clobber)
        }
        if zip {
            print("Zip file written to \(written[0].path)")
            return
        }
        for url in written { print(url.path) }
        print("Retrieved \(written.count) artifact(s)")
    }
}

struct IngestZip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-zip",
        abstract: "Ingest a Zip written by retrieve-artifacts --zip (here or by daf_butler), dataset IDs kept; all or nothing.",
        discussion: "The dimension records the datasets' data IDs need must be in the repository already.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The Zip file.") var zip: String
    @Option(name: .long, help: "copy (auto) or move (the Zip is removed once ingested).") var transfer = "auto"
    @Flag(name: .customLong("skip-existing"), help: "Accept a Zip whose datasets are all in the repository already.")
    var skipExisting = false
    @Flag(name: .customLong("dry-run"), inversion: .prefixedNo, help: "Check and count, but ingest nothing.") var dryRun = false

    func run() async throws {
        let name = transfer == "auto" ? "copy" : transfer
        guard let mode = TransferMode(rawValue: name), mode == .copy || mode == .move else {
            throw ValidationError("unknown transfer '\(transfer)' for ingest-zip; use auto, copy or move")
        }
        let summary = try await withButler(repo, writeable: !dryRun) { butler in
            try await butler.ingestZip(URL(fileURLWithPath: zip), transfer: mode, skipExisting: skipExisting, dryRun: dryRun)
        }
        let present = summary.alreadyPresent > 0 ? " (\(summary.alreadyPresent) already present)" : ""
        print(
            "\(dryRun ? "Would ingest" : "Ingested") \(summary.ingested) dataset(s) from \(summary.artifacts) file(s) in \(zip)\(present)")
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Export datasets, their artifacts and the records they need, as daf_butler's export.yaml (its `butler import` reads it) or, for large exports, as export.sqlite3."
    )

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The directory to write (the export file and the artifacts).") var directory: String
    @Option(name: .customLong("dataset-type"), parsing: .singleValue, help: "Dataset types (repeatable; all when none).")
    var datasetTypes: [String] = []
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, help: "A where-expression the datasets' data IDs must match.") var `where`: String?
    @Option(name: .long, help: "How artifacts are placed: copy, symlink or hardlink.") var transfer = "copy"
    @Option(
        name: .long,
        help: "yaml (daf_butler's format 1.0.2) or sqlite (large exports: artifact sizes and checksums, fast to import).")
    var format = "yaml"
    @Option(name: .customLong("export-file"), help: "The export file's name in the directory (default: export.yaml or export.sqlite3).")
    var exportFile: String?

    func run() async throws {
        guard let mode = ExportTransfer(rawValue: transfer) else {
            throw ValidationError(
                "unknown transfer '\(transfer)'; use one of \(ExportTransfer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let form = ExportFormat(rawValue: format) else {
            throw ValidationError("unknown format '\(format)'; use one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let fileName = exportFile ?? form.defaultFileName
        let export = try await withButler(repo, writeable: false) { butler in
            try await butler.export(
                to: URL(fileURLWithPath: directory), collections: collections.list.isEmpty ? ["*"] : collections.list, where: `where`,
                datasetTypes: splitCommas(datasetTypes), transfer: mode, format: form, exportFile: fileName)
        }
        print(
            "Exported \(export.datasetCount) dataset(s), \(export.dimensions.reduce(0) { $0 + $1.records.count }) dimension record(s) and \(export.collections.count) collection(s) to \(directory)/\(fileName)"
        )
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Import an export directory (daf_butler's export.yaml, or export.sqlite3, and its artifacts), keeping dataset IDs; all or nothing."
    )

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The export directory (artifact paths are relative to it).") var directory: String
    @Option(
        name: .customLong("export-file"),
        help: "The export file, YAML or SQLite (default: DIRECTORY/export.yaml, else DIRECTORY/export.sqlite3).")
    var exportFile: String?
    @Option(name: .long, help: "copy, move, symlink, hardlink or direct (auto: copy).") var transfer = "copy"

    func run() async throws {
        let name = transfer == "auto" ? "copy" : transfer
        guard let mode = TransferMode(rawValue: name) else {
            throw ValidationError(
                "unknown transfer '\(transfer)'; use one of auto, \(TransferMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let summary = try await withButler(repo) { butler in
            try await butler.import(
                from: URL(fileURLWithPath: directory), exportFile: exportFile.map { URL(fileURLWithPath: $0) }, transfer: mode)
        }
        print(
            "Imported \(summary.imported) dataset(s)\(summary.alreadyPresent > 0 ? " (\(summary.alreadyPresent) already present)" : ""), \(summary.dimensionRecords) dimension record(s), \(summary.collections) collection(s)"
        )
    }
}

struct TransferDatasets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer-datasets",
        abstract: "Copy datasets (IDs kept) with their runs and artifacts from one repository to another; skips what the destination has.")

    @Argument(help: "The source repository root.") var source: String
    @Argument(help: "The destination repository root.") var dest: String
    @Option(name: .customLong("dataset-type"), parsing: .singleValue, help: "Dataset types (repeatable; all when none).")
    var datasetTypes: [String] = []
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, help: "A where-expression the datasets' data IDs must match.") var `where`: String?
    @Flag(name: .customLong("find-first"), help: "Only the first dataset per data ID along --collections.") var findFirst = false
    @Option(name: .long, help: "copy, hardlink, symlink or direct (auto: copy).") var transfer = "auto"
    @Flag(name: .customLong("register-dataset-types"), help: "Register dataset types the destination lacks.")
    var registerDatasetTypes = false
    @Flag(
        name: .customLong("transfer-dimensions"), inversion: .prefixedNo,
        help: "Bring the dimension records the datasets' data IDs need (default on).")
    var transferDimensions = true

    func run() async throws {
        let name = transfer == "auto" ? "copy" : transfer
        guard let mode = TransferMode(rawValue: name), mode != .move else {
            throw ValidationError("unknown transfer '\(transfer)'; use auto, copy, hardlink, symlink or direct")
        }
        let summary = try await withButler(source, writeable: false) { from in
            try await withButler(dest) { to in
                try await to.transfer(
                    from: from, datasetTypes: splitCommas(datasetTypes), collections: collections.list.isEmpty ? ["*"] : collections.list,
                    where: `where`, findFirst: findFirst, transfer: mode, registerDatasetTypes: registerDatasetTypes,
                    transferDimensions: transferDimensions)
            }
        }
        print(
            "Transferred \(summary.imported) dataset(s)\(summary.alreadyPresent > 0 ? " (\(summary.alreadyPresent) already present)" : "")")
    }
}

struct ExportCalibs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-calibs",
        abstract: "Export CALIBRATION collections with the datasets certified in them (and their runs) as daf_butler's export.yaml.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The directory to write.") var directory: String
    @Argument(help: "CALIBRATION collections (globs allowed; all when none).") var collections: [String] = []
    @Option(name: .customLong("dataset-type"), parsing: .singleValue, help: "Calibration dataset types (repeatable; all when none).")
    var datasetTypes: [String] = []
    @Option(name: .long, help: "How artifacts are placed: copy, symlink or hardlink.") var transfer = "copy"

    func run() async throws {
        guard let mode = ExportTransfer(rawValue: transfer) else {
            throw ValidationError(
                "unknown transfer '\(transfer)'; use one of \(ExportTransfer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let export = try await withButler(repo, writeable: false) { butler in
            let calibrations = try await butler.collections(matching: collections, types: [.calibration]).map(\.name)
            guard !calibrations.isEmpty else {
                throw CommandFailure("no CALIBRATION collection matches \(collections.isEmpty ? "*" : collections.joined(separator: ", "))")
            }
            let types = try await butler.datasetTypes(matching: splitCommas(datasetTypes)).filter(\.isCalibration).map(\.name)
            guard !types.isEmpty else { throw CommandFailure("no calibration dataset type matches \(datasetTypes)") }
            return try await butler.export(
                to: URL(fileURLWithPath: directory), collections: calibrations, datasetTypes: types, transfer: mode)
        }
        print(
            "Exported \(export.datasetCount) calibration(s) in \(export.collections.filter { $0.type == .calibration }.count) CALIBRATION collection(s) to \(directory)"
        )
    }
}

struct Subset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subset",
        abstract:
            "Make a standalone repository of part of this one: datasets by data ID or where-clause, with what they need to read alike.",
        discussion: """
            Coadd-keyed types are found by overlap with the visits and detectors given; components supplied by other \
            datasets (a refitted calexp.wcs, a per-visit calexp.visitInfo, the calexp.photoCalib a src binds — without \
            the calexp's pixels), the calibrations valid for the exposures, the dimension records and the collections \
            searched (chains in order) come along. Example: butler subset REPO SUBSET --collections DemoCam/night,DemoCam/calib,DemoCam/coadds \
            --dataset-type calexp --dataset-type deepCoadd --data-id instrument=DemoCam,visit=1,detector=0
            """)

    @Argument(help: "The source repository root.") var source: String
    @Argument(help: "Where to create the subset repository (must not hold one).") var dest: String
    @Option(name: .customLong("dataset-type"), parsing: .singleValue, help: "Dataset types (repeatable, comma-separated; at least one).")
    var datasetTypes: [String] = []
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, help: "A where-expression the datasets' data IDs must match.") var `where`: String?
    @Option(
        name: .customLong("data-id"), parsing: .singleValue,
        help: "One data ID KEY=VALUE,KEY=VALUE (repeatable: each is an alternative, e.g. one per visit and detector).")
    var dataIds: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "A value for :NAME in --where, as NAME=VALUE (repeatable).") var bind: [String] = []
    @Flag(inversion: .prefixedNo, help: "Bring the calibrations valid for the datasets' exposures and visits (default on).")
    var calibrations = true
    @Option(name: .long, help: "copy, hardlink or symlink (symbolic links make the subset depend on the source's files).")
    var transfer = "copy"
    @Flag(name: .long, help: "Print the summary as JSON.") var json = false

    func run() async throws {
        guard let mode = TransferMode(rawValue: transfer), [.copy, .hardlink, .symlink].contains(mode) else {
            throw ValidationError("unknown transfer '\(transfer)'; use copy, hardlink or symlink")
        }
        let types = splitCommas(datasetTypes)
        guard !types.isEmpty else { throw ValidationError("give at least one --dataset-type") }
        let dataIds = try self.dataIds.map { try parseDataId([$0]) }
        let binds = try parseBinds(bind)
        let summary = try await withButler(source, writeable: false) { butler in
            try await butler.subset(
                to: URL(fileURLWithPath: dest), datasetTypes: types, collections: collections.list.isEmpty ? nil : collections.list,
                where: `where`, bind: binds, dataIds: dataIds, calibrations: calibrations, transfer: mode)
        }
        if json {
            try printJSON(encoding: summary)
        } else {
            print(
                "Subset at \(dest): \(summary.datasets) dataset(s), \(summary.componentDatasets) component dataset(s), "
                    + "\(summary.boundComponents) bound component(s), \(summary.calibrations) calibration(s), "
                    + "\(summary.dimensionRecords) dimension record(s), \(summary.collections) collection(s)")
        }
    }
}

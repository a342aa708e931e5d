import ArgumentParser
import Butler
import Composites
import Foundation

/// The `butler` command: daf_butler's subcommand names and argument order, so that a
/// daf_butler user's commands carry over.
@main
struct ButlerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "butler",
        abstract: "Store and retrieve astronomical datasets by dataset type, data ID and collections.",
        discussion: """
            Global options, before or after the subcommand (as daf_butler's): --log-level [COMPONENT=]LEVEL (DEBUG, INFO, \
            WARNING, ERROR, CRITICAL; repeatable; COMPONENT is a logger label such as butler.storage), --long-log (times, \
            sources and metadata), --log-file FILE (also write the log there), --progress/--no-progress (progress bars for \
            ingest, import, export, transfer, subset, verify and removal; default: on when standard error is a terminal). \
            Logs and progress go to standard error. Shell completion: \
            butler --generate-completion-script bash|zsh|fish.
            """,
        subcommands: [
            Create.self, ConfigDump.self, ConfigValidate.self, Demo.self,
            RegisterDatasetType.self, RemoveDatasetType.self, QueryDatasetTypes.self, IndexFields.self,
            QueryCollections.self, CollectionChain.self, RemoveCollections.self, Associate.self,
            CertifyCalibrations.self, DecertifyCalibrations.self, QueryDatasetAssociations.self, FindCalibrations.self,
            InsertDimensionRecords.self, QueryDimensionRecords.self, QueryDataIds.self, DefineVisits.self, RegisterSkyMap.self,
            PackDataIds.self,
            IngestRefcat.self,
            QueryRefcat.self,
            QueryDatasets.self, IngestFiles.self, IngestRaws.self, RetrieveArtifacts.self, IngestZip.self, Export.self, ExportCalibs.self,
            Import.self,
            TransferDatasets.self, Subset.self,
            Get.self, Put.self,
            RemoveRuns.self, PruneDatasets.self, Verify.self, ImageInfo.self, ImageConvert.self,
        ])

    /// ArgumentParser's entry point, except that with `--json` a failure of the work is one
    /// JSON object on stderr: `{"error": {"kind", "message", "position", "reasons"}}` (kind
    /// `syntax` for a where-expression that does not parse, with its 1-based position).
    /// Command-line mistakes keep the usage text and status 64.
    static func main() async {
        let arguments: [String]
        let command: any ParsableCommand
        let display: ProgressDisplay?
        do {
            let globals: GlobalOptions
            (globals, arguments) = try GlobalOptions.extract(Array(CommandLine.arguments.dropFirst()))
            try globals.bootstrap()
            display = globals.progressDisplay()
            command = try parseAsRoot(arguments)
        } catch { exit(withError: error) }
        do {
            defer { display?.finish() }
            var handler: (@Sendable (ProgressReport) -> Void)?
            if let display { handler = { report in display.update(report) } }
            let parsed = ParsedCommand(command: command)
            try await ButlerProgress.$handler.withValue(handler) { try await parsed.run() }
        } catch {
            guard arguments.contains("--json"), !(error is ValidationError), !(error is CleanExit), !(error is ExitCode) else {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data((Self.jsonError(error) + "\n").utf8))
            Foundation.exit(1)
        }
    }

    /// The JSON form of a failure.
    static func jsonError(_ error: any Error) -> String {
        var object: [String: JSONValue] = ["message": .string("\(error)"), "position": .null, "reasons": .array([])]
        if let failure = error as? ButlerError {
            object["reasons"] = .array(failure.reasons.map(JSONValue.string))
            if let syntax = failure.cause as? WhereSyntaxError {
                object["kind"] = "syntax"
                object["position"] = .int(Int64(syntax.position))
            } else {
                object["kind"] = .string(failure.code.name)
            }
        } else {
            object["kind"] = error is CommandFailure ? "failure" : "error"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue.object(["error": .object(object)]))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The parsed command, run once inside the progress handler's scope: it goes from `main` into
/// that closure and nowhere else, so no two tasks ever touch it.
private struct ParsedCommand: @unchecked Sendable {
    let command: any ParsableCommand

    func run() async throws {
        var runnable = command
        if var asynchronous = runnable as? any AsyncParsableCommand {
            try await asynchronous.run()
        } else {
            try runnable.run()
        }
    }
}

package import Composites
package import Formatters
import Foundation
import Synchronization

/// Artifacts as files, one record per (dataset, component) in the registry database so that a
/// dataset and its artifacts are registered together; the bytes live in an ``ArtifactStorage``
/// (a POSIX directory now).
///
/// Writes are two-step (``FileDatastore+Write.swift``): ``prepare(_:for:storageClass:)`` stages
/// the artifact under a name nobody reads and syncs it; the write's `commit`, called inside the
/// registry transaction, records it and publishes it. If anything fails, the staged file is
/// removed and, if the publication happened, so is the final name: no file without its row.
/// Reads (``FileDatastore+Read.swift``) assemble composites stored one artifact per component;
/// removal (``FileDatastore+Trash.swift``) is two-phase.
package final class FileDatastore: Datastore {
    package let name: String
    /// Where the bytes are.
    let storage: any ArtifactStorage
    let config: RepositoryConfig.Datastore
    let formatters: FormatterRegistry
    let storageClasses: StorageClassRegistry
    private let templates: [String: FileTemplate]
    /// The record table as a registry find attaches it (built once: a get uses it every time).
    package let recordsAttachment: AttachedTable
    /// Dataset types whose template has been checked for unique paths.
    private let validatedTemplates = Mutex<Set<String>>([])
    /// Whether the layout table is known to exist (it may not, in a repository made before it).
    let layoutTableKnown = Mutex(false)

    /// A datastore named `name` over `storage`, configured by `config`.
    /// - Throws: ``ButlerError/Code/configuration`` for a malformed template.
    package init(
        name: String, storage: any ArtifactStorage, config: RepositoryConfig.Datastore, formatters: FormatterRegistry,
        storageClasses: StorageClassRegistry
    ) throws {
        self.name = name
        self.storage = storage
        self.config = config
        self.formatters = formatters
        self.storageClasses = storageClasses
        var templates: [String: FileTemplate] = [:]
        for (key, text) in config.templates { templates[key] = try FileTemplate(text) }
        if templates["default"] == nil { templates["default"] = try FileTemplate(RepositoryConfig.defaultTemplate) }
        self.templates = templates
        self.recordsAttachment = AttachedTable(
            table: Self.recordTable, datasetIdColumn: "dataset_id", columns: Self.recordColumns,
            restrictions: [AttachedTable.Restriction("datastore_name", equals: .text(name))])
    }

    // MARK: Configuration look-ups

    /// The template for a dataset type: by name, parent name, storage class, then default.
    func template(for datasetType: DatasetType) -> FileTemplate {
        templates[datasetType.name] ?? templates[datasetType.parentName]
            ?? templates[datasetType.storageClassName] ?? templates["default"]!
    }

    /// The formatter (and extension) new artifacts of `datasetType` are written with.
    func formatterChoice(for datasetType: DatasetType) throws -> (any FileFormatter, String) {
        var names = [datasetType.name, datasetType.parentName, datasetType.storageClassName]
        if let base = try? storageClasses.storageClass(named: datasetType.storageClassName).basedOn { names.append(base) }
        return try formatterChoice(names: names)
    }

    package func configurationProblems(for datasetType: DatasetType) -> [String] {
        var problems: [String] = []
        let storageClass: StorageClass
        do { storageClass = try storageClasses.storageClass(named: datasetType.storageClassName) } catch {
            return ["\(datasetType.name): storage class \(datasetType.storageClassName) is not known to this process"]
        }
        if isDisassembled(datasetType) {
            for (component, className) in storageClass.components.sorted(by: { $0.key < $1.key }) {
                do { _ = try formatterChoice(names: ["\(datasetType.name).\(component)", className]) } catch {
                    problems.append("\(datasetType.name).\(component) in \(name): \(error)")
                }
            }
        } else {
            do { _ = try formatterChoice(for: datasetType) } catch { problems.append("\(datasetType.name) in \(name): \(error)") }
        }
        do { try template(for: datasetType).validate(required: datasetType.dimensions.required, datasetType: datasetType.name) } catch {
            problems.append("\(datasetType.name) in \(name): \(error)")
        }
        return problems
    }

    /// The first configured formatter among `names` (dataset type, parent, storage class).
    func formatterChoice(names: [String]) throws -> (any FileFormatter, String) {
        // A storage class added after the repository was made takes the built-in default.
        let defaults = RepositoryConfig.defaultConfig().datastore.formatters
        guard let choice = names.lazy.compactMap({ self.config.formatters[$0] }).first ?? names.lazy.compactMap({ defaults[$0] }).first
        else {
            throw ButlerError.configuration("no formatter is configured for any of \(names.joined(separator: ", "))")
        }
        var formatter = try formatter(named: choice.formatter)
        if let parameters = choice.parameters, !parameters.isEmpty {
            do { formatter = try formatter.configured(with: parameters) } catch {
                throw ButlerError.configuration("formatter for \(names[0])", cause: error)
            }
        }
        return (formatter, choice.extension ?? formatter.defaultExtension)
    }

    /// The formatter a record names.
    func formatter(named name: String) throws -> any FileFormatter {
        do { return try formatters.formatter(named: name) } catch {
            throw ButlerError.configuration("formatter '\(name)' is not known to this process", cause: error)
        }
    }

    /// Whether `datasetType` is stored one artifact per component.
    func isDisassembled(_ datasetType: DatasetType) -> Bool {
        guard let names = config.disassembled else { return false }
        return names.contains(datasetType.name) || names.contains(datasetType.parentName) || names.contains(datasetType.storageClassName)
    }

    /// The relative path for a new artifact of `ref` (its data ID expanded).
    func relativePath(for ref: DatasetRef, component: String?, extension ext: String) throws -> String {
        let template = template(for: ref.datasetType)
        if !validatedTemplates.withLock({ $0.contains(ref.datasetType.name) }) {
            try template.validate(required: ref.datasetType.dimensions.required, datasetType: ref.datasetType.name)
            validatedTemplates.withLock { _ = $0.insert(ref.datasetType.name) }
        }
        var values: [String: String] = [
            "run": ref.run, "collection": ref.run, "datasetType": ref.datasetType.parentName,
            "id": ref.id.uuidString.lowercased(),
        ]
        if let component = component ?? ref.datasetType.component { values["component"] = component }
        for name in ref.dataId.dimensions.names {
            if let value = ref.dataId[name] { values[name] = value.description }
        }
        return try template.format(values) + ext
    }
}

public import Composites
public import Formatters
public import Foundation
import Logging
import SkyMaps

/// The data-access facade: store and retrieve datasets by dataset type, data ID and
/// collections, never by path or file format.
///
/// ```swift
/// let butler = try await Butler(repository: repo, collections: ["HSC/runs/RC2"], run: "u/me/test")
/// let ref = try await butler.put(["mean": 1.5], "metrics", dataId: ["instrument": "HSC", "visit": 42])
/// let metrics = try await butler.get("metrics", dataId: ["instrument": "HSC", "visit": 42], as: [String: Double].self)
/// ```
///
/// A `Butler` is `Sendable`: share one instance between tasks. On the embedded SQLite
/// registry, calls run inline on the calling task (no executor hop).
public final class Butler: Sendable {
    /// The repository root (the directory holding `butler.yaml`).
    public let root: URL
    /// The repository configuration.
    public let config: RepositoryConfig
    /// The dimension universe.
    public let universe: DimensionUniverse
    /// The storage classes this Butler knows; add your own with `register`.
    public let storageClasses: StorageClassRegistry
    /// The formatters this Butler knows; add your own with `register`.
    public let formatters: FormatterRegistry
    /// True when opened read-only: every write is refused with ``ButlerError/Code/readOnly``.
    public let isReadOnly: Bool
    /// Collections searched when a call passes none.
    public let defaultCollections: [String]
    /// The RUN new datasets go to when a call passes none.
    public let defaultRun: String?

    let registry: Registry
    let datastore: any Datastore
    /// Finds datasets and resolves their components (DESIGN §3.1) in one registry access.
    let locator: DatasetLocator

    /// Opens an existing repository.
    ///
    /// - Parameters:
    ///   - repository: The repository root.
    ///   - collections: Default search path; `[run]` when empty and `run` is given.
    ///   - run: Default RUN for puts; created on first put if missing.
    ///   - writeable: False opens read-only.
    ///   - storageClasses: Storage classes to use (built-ins by default).
    ///   - formatters: Formatters to use (built-ins by default).
    ///   - verifyChecksums: Check every artifact against its recorded checksum before reading it
    ///     (as the repository's `datastore.verifyChecksums` does for every Butler).
    public init(
        repository: URL, collections: [String] = [], run: String? = nil, writeable: Bool = true,
        storageClasses: StorageClassRegistry = StorageClassRegistry(), formatters: FormatterRegistry = FormatterRegistry(),
        verifyChecksums: Bool = false
    ) async throws {
        let root = repository.standardizedFileURL
        var config = try RepositoryConfig.load(root: root)
        if verifyChecksums { config.datastore.verifyChecksums = true }
        let universe = try Self.universe(config: config, root: root)
        let database = try await Self.openDatabase(config: config, root: root, readOnly: !writeable)
        let registry = Registry(database: database, universe: universe)
        do {
            try await database.read { session in try registry.checkSchema(session, source: root.path) }
            if writeable, try await database.read({ session in try registry.needsSchemaUpgrade(session) }) {
                try await database.write { session in try registry.upgradeSchema(session) }
            }
        } catch {
            try? await database.close()
            throw error
        }
        // lsst.skymap's storage class: the skymap's definition, from which everything is rebuilt.
        if (try? storageClasses.storageClass(named: "SkyMap")) == nil {
            try storageClasses.register(
                StorageClass(name: "SkyMap", type: SkyMap.self, doc: "A skymap (rings or discrete): its lsst.skymap configuration."))
        }
        for (name, definition) in (config.storageClasses ?? [:]).sorted(by: { $0.key < $1.key }) {
            let base: StorageClass
            do { base = try storageClasses.storageClass(named: definition.like) } catch {
                try? await database.close()
                throw ButlerError.configuration("storage class \(name) in \(root.path)/butler.yaml", cause: error)
            }
            try storageClasses.register(base.renamed(name, doc: definition.doc))
        }
        self.root = root
        self.config = config
        self.universe = universe
        self.storageClasses = storageClasses
        self.formatters = formatters
        self.isReadOnly = !writeable
        self.defaultRun = run
        self.defaultCollections = collections.isEmpty ? (run.map { [$0] } ?? []) : collections
        self.registry = registry
        let datastore = try DatastoreConfiguration.make(config, root: root, formatters: formatters, storageClasses: storageClasses)
        self.datastore = datastore
        self.locator = DatasetLocator(
            registry: registry, universe: universe,
            components: ComponentResolver(
                registry: registry, datastore: datastore, storageClasses: storageClasses, bindings: config.componentBindings ?? [:]))
        Self.logger.debug(
            "opened \(root.path) \(writeable ? "read-write" : "read-only"): registry \(Self.withoutCredentials(config.registry.db)), datastore \(config.datastore.root)"
        )
    }

    /// A database URL with any user and password replaced, for logs.
    static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return url[..<scheme.upperBound] + "…" + url[at...]
    }

    /// What a Butler tells about its work (`butler --log-level DEBUG`).
    static let logger = Logger(label: "butler")

    /// Creates a new, empty repository at `root` and returns its root.
    /// - Throws: ``ButlerError/Code/configuration`` if a repository already exists there.
    @discardableResult
    public static func createRepository(at root: URL, config: RepositoryConfig = .defaultConfig()) async throws -> URL {
        let root = root.standardizedFileURL
        try RepositoryConfig.prepareNewRoot(root)
        let universe = try universe(config: config, root: root)
        // Reject malformed templates now rather than at the first put.
        let datastore = try DatastoreConfiguration.make(
            config, root: root, formatters: FormatterRegistry(), storageClasses: StorageClassRegistry())
        // A missing bucket or refused credentials stop the creation before anything is written.
        for storage in try DatastoreConfiguration.storages(config.datastore, root: root) { try storage.checkReachable() }
        let database = try await openDatabase(config: config, root: root, readOnly: false, create: true)
        let registry = Registry(database: database, universe: universe)
        do {
            try await database.write { session in
                if try !session.query(session.dialect.tableExistsQuery, [.text("butler_attributes")]).isEmpty {
                    throw ButlerError.configuration("the registry database \(config.registry.db) already holds a repository")
                }
                try registry.createSchema(session)
                try datastore.createSchema(session)
            }
            try config.write(root: root)
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
        return root
    }

    /// Releases database connections. The Butler must not be used afterwards.
    public func close() async throws {
        try await registry.database.close()
    }

    /// Registry statements (queries and writes) this Butler has sent so far: the difference
    /// across an operation is what it cost the registry (the transfer rows of `BENCHMARKS.md`
    /// count with it).
    public var registryStatementsSent: Int { registry.database.statements.total }

    /// The engine holding the registry: `sqlite` or `postgresql`.
    public var registryEngine: String { registry.dialect.name }

    /// What this Butler has exchanged with its remote storages (S3, HTTP) so far: requests
    /// sent (every attempt, retries included) and body bytes received — to see what a cutout
    /// or a component read cost over the network.
    public var remoteTransferStatistics: RemoteTransferStatistics { datastore.transferStatistics }

    // MARK: Opening helpers

    static func resolve(_ path: String, root: URL) -> URL {
        let expanded = path.replacingOccurrences(of: "<butlerRoot>", with: root.path)
        return expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : root.appendingPathComponent(expanded)
    }

    static func universe(config: RepositoryConfig, root: URL) throws -> DimensionUniverse {
        if let path = config.dimensions.config {
            return try DimensionUniverse.load(from: resolve(path, root: root), aliases: config.dimensions.aliases)
        }
        return try DimensionUniverse.defaultUniverse(aliases: config.dimensions.aliases)
    }

    /// The registry database of a repository; `create` only for a new repository.
    static func openDatabase(config: RepositoryConfig, root: URL, readOnly: Bool, create: Bool = false) async throws -> any SQLDatabase {
        let url = config.registry.db
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            let location = path.hasPrefix("//") ? String(path.dropFirst()) : String(path.drop { $0 == "/" })
            return try SQLiteDatabase(path: resolve(location, root: root).path, readOnly: readOnly, create: create)
        }
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            return try await PostgreSQLDatabase(url: url, namespace: config.registry.namespace, readOnly: readOnly)
        }
        throw ButlerError.configuration("unsupported registry database URL '\(url)' (use sqlite:///… or postgresql://…)")
    }

    // MARK: Shared checks

    func requireWriteable(_ operation: @autoclosure () -> String) throws {
        if isReadOnly { throw ButlerError.readOnly(operation()) }
    }

    func searchCollections(_ collections: [String]?, for what: @autoclosure () -> String) throws -> [String] {
        let chosen = collections ?? defaultCollections
        if chosen.isEmpty {
            throw ButlerError.collection("no collections given for \(what()) and the Butler has no default collections")
        }
        return chosen
    }
}

import Composites
import Formatters
import Foundation

/// The datastore a repository's configuration describes — the one place that names concrete
/// datastore and storage types, so that the facade holds `any Datastore` only.
enum DatastoreConfiguration {
    /// Files under the configured datastore root — a directory (relative to the repository
    /// root unless absolute) or `s3://BUCKET/PREFIX` — named as configured or
    /// ``RepositoryConfig/Datastore/defaultName``.
    /// - Throws: ``ButlerError/Code/configuration`` for a malformed template or S3 setting.
    static func make(
        _ config: RepositoryConfig, root: URL, formatters: FormatterRegistry, storageClasses: StorageClassRegistry
    ) throws -> any Datastore {
        if let chain = config.datastore.chain, !chain.isEmpty {
            try checkDistinctRoots(chain.map(\.root), root: root)
            let members = try chain.map { member in
                let settings = memberSettings(config.datastore, member)
                return ChainedDatastore.Member(
                    datastore: try FileDatastore(
                        name: member.name ?? "FileDatastore@\(member.root)", storage: storage(settings, root: root), config: settings,
                        formatters: formatters, storageClasses: storageClasses),
                    constraints: member.constraints ?? .init())
            }
            return try ChainedDatastore(
                name: config.datastore.name ?? "ChainedDatastore@<butlerRoot>", members: members, storageClasses: storageClasses)
        }
        return try FileDatastore(
            name: config.datastore.name ?? RepositoryConfig.Datastore.defaultName,
            storage: storage(config.datastore, root: root), config: config.datastore,
            formatters: formatters, storageClasses: storageClasses)
    }

    /// A chain member's settings: the chain's, with the member's root and what it changes.
    static func memberSettings(_ chain: RepositoryConfig.Datastore, _ member: RepositoryConfig.ChainMember) -> RepositoryConfig.Datastore {
        var settings = chain
        settings.chain = nil
        settings.name = member.name
        settings.root = member.root
        if let templates = member.templates { settings.templates.merge(templates) { $1 } }
        if let formatters = member.formatters { settings.formatters.merge(formatters) { $1 } }
        if let disassembled = member.disassembled { settings.disassembled = disassembled }
        if let s3 = member.s3 { settings.s3 = s3 }
        if let cache = member.cache { settings.cache = cache }
        return settings
    }

    /// The storages a configuration names: the chain's members', or the one root.
    static func storages(_ config: RepositoryConfig.Datastore, root: URL) throws -> [any ArtifactStorage] {
        guard let chain = config.chain, !chain.isEmpty else { return [try storage(config, root: root)] }
        return try chain.map { try storage(memberSettings(config, $0), root: root) }
    }

    /// Refuses a chain where one member's root holds another's: each would take the other's
    /// artifacts for orphans.
    static func checkDistinctRoots(_ roots: [String], root: URL) throws {
        let resolved = roots.map { isRemote($0) ? $0.trimmingSuffix("/") : Butler.resolve($0, root: root).standardizedFileURL.path }
        for (index, first) in resolved.enumerated() {
            for (otherIndex, second) in resolved.enumerated() where index != otherIndex {
                if first == second || second.hasPrefix(first + "/") {
                    throw ButlerError(
                        .configuration,
                        "datastore.chain: the root \(roots[otherIndex]) is inside \(roots[index]); each member needs a root of its own")
                }
            }
        }
    }

    /// The storage a datastore root names.
    static func storage(_ datastore: RepositoryConfig.Datastore, root: URL) throws -> any ArtifactStorage {
        if isRemote(datastore.root) {
            let scheme = datastore.root.prefix { $0 != ":" }.lowercased()
            switch scheme {
            case "s3":
                return try S3Storage(
                    settings: S3Settings.resolve(root: datastore.root, options: datastore.s3),
                    cache: ArtifactCache.configured(datastore.cache))
            case "http", "https":
                return try HTTPStorage(root: datastore.root, cache: ArtifactCache.configured(datastore.cache))
            case "memory":
                return try LocalStorage.ephemeral(named: String(datastore.root.dropFirst("memory://".count)))
            default:
                throw ButlerError(
                    .configuration,
                    "datastore root \(datastore.root): the scheme \(scheme) is not one of s3, http, https, memory or a directory")
            }
        }
        return LocalStorage(root: Butler.resolve(datastore.root, root: root))
    }

    /// Whether a datastore root is a URL of a remote store rather than a directory.
    static func isRemote(_ root: String) -> Bool {
        guard let colon = root.firstIndex(of: ":") else { return false }
        return root[colon...].hasPrefix("://") && root[..<colon].lowercased() != "file"
    }

    /// The repository's own files under the datastore root (relative to it): `butler.yaml` and
    /// an SQLite registry with its journal files — never artifacts, never removed by a repair.
    static func repositoryFiles(_ config: RepositoryConfig, root: URL, database: String?) -> Set<String> {
        if let chain = config.datastore.chain, !chain.isEmpty {
            // Each member's, relative to its own root: a member at the repository root holds them.
            return chain.reduce(into: Set<String>()) { files, member in
                var single = config
                single.datastore = memberSettings(config.datastore, member)
                files.formUnion(repositoryFiles(single, root: root, database: database))
            }
        }
        // A remote root may be a copy of a whole repository directory (a web server's
        // mirror): its configuration and SQLite files are not artifacts either.
        if isRemote(config.datastore.root) {
            return ["butler.yaml", "gen3.sqlite3", "gen3.sqlite3-wal", "gen3.sqlite3-shm", "gen3.sqlite3-journal"]
        }
        let datastoreRoot = Butler.resolve(config.datastore.root, root: root).standardizedFileURL.path
        var files: Set<String> = []
        for path in [root.appendingPathComponent("butler.yaml").standardizedFileURL.path]
            + (database.map { [$0, $0 + "-wal", $0 + "-shm", $0 + "-journal"] } ?? [])
        {
            if path.hasPrefix(datastoreRoot + "/") { files.insert(String(path.dropFirst(datastoreRoot.count + 1))) }
        }
        return files
    }
}

extension String {
    /// The string without trailing `suffix` characters.
    func trimmingSuffix(_ suffix: Character) -> String {
        var text = self
        while text.last == suffix { text.removeLast() }
        return text
    }
}

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
        try FileDatastore(
            name: config.datastore.name ?? RepositoryConfig.Datastore.defaultName,
            storage: storage(config.datastore, root: root), config: config.datastore,
            formatters: formatters, storageClasses: storageClasses)
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
            default:
                throw ButlerError(
                    .configuration, "datastore root \(datastore.root): the scheme \(scheme) is not one of s3, http, https or a directory")
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

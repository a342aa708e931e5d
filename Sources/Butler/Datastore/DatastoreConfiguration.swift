import Composites
import Formatters
import Foundation

/// The datastore a repository's configuration describes — the one place that names concrete
/// datastore and storage types, so that the facade holds `any Datastore` only.
enum DatastoreConfiguration {
    /// Files under the configured datastore root (relative to the repository root unless
    /// absolute), named as configured or ``RepositoryConfig/Datastore/defaultName``.
    /// - Throws: ``ButlerError/Code/configuration`` for a malformed template.
    static func make(
        _ config: RepositoryConfig, root: URL, formatters: FormatterRegistry, storageClasses: StorageClassRegistry
    ) throws -> any Datastore {
        try FileDatastore(
            name: config.datastore.name ?? RepositoryConfig.Datastore.defaultName,
            storage: LocalStorage(root: Butler.resolve(config.datastore.root, root: root)), config: config.datastore,
            formatters: formatters, storageClasses: storageClasses)
    }

    /// The repository's own files under the datastore root (relative to it): `butler.yaml` and
    /// an SQLite registry with its journal files — never artifacts, never removed by a repair.
    static func repositoryFiles(_ config: RepositoryConfig, root: URL, database: String?) -> Set<String> {
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

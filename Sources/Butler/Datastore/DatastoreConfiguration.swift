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
}

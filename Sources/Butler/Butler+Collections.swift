extension Butler {
    /// Creates a RUN collection; returns false if it already exists.
    @discardableResult
    public func registerRun(_ name: String, doc: String = "") async throws -> Bool {
        try await registerCollection(name, type: .run, doc: doc)
    }

    /// Creates a collection of `type`; returns false if it already exists with that type.
    @discardableResult
    public func registerCollection(_ name: String, type: CollectionType, doc: String = "") async throws -> Bool {
        try requireWriteable("register collection \(name)")
        let registry = self.registry
        return try await registry.database.writeRetrying { session in
            try registry.registerCollection(session, name, type: type, doc: doc)
        }
    }

    /// Changes the children of a CHAINED collection (created if it does not exist).
    public func setCollectionChain(_ parent: String, children: [String], mode: ChainMode = .redefine) async throws {
        try requireWriteable("collection-chain \(parent)")
        let registry = self.registry
        try await registry.database.writeRetrying { session in
            if try registry.findCollection(session, named: parent) == nil {
                try registry.registerCollection(session, parent, type: .chained)
            }
            try registry.setChain(session, parent: parent, children: children, mode: mode)
        }
    }

    /// The children of a CHAINED collection, in search order.
    public func collectionChain(_ parent: String) async throws -> [String] {
        let registry = self.registry
        return try await registry.database.read { session in
            let record = try registry.collection(session, named: parent)
            guard record.type == .chained else {
                throw ButlerError.collection("collection '\(parent)' is \(record.type.rawValue), not CHAINED")
            }
            return try registry.chainChildren(session, of: record).map(\.name)
        }
    }

    /// Collections whose names match any glob in `patterns` (all when empty), optionally of
    /// the given types, sorted by name.
    public func collections(
        matching patterns: [String] = [], types: Set<CollectionType> = Set(CollectionType.allCases)
    ) async throws -> [CollectionInfo] {
        let registry = self.registry
        return try await registry.database.read { session in
            try registry.allCollections(session)
                .filter { record in types.contains(record.type) && (patterns.isEmpty || patterns.contains { Glob.matches($0, record.name) })
                }
                .map { record in
                    CollectionInfo(
                        name: record.name, type: record.type,
                        children: record.type == .chained ? try registry.chainChildren(session, of: record).map(\.name) : [],
                        doc: record.doc)
                }
        }
    }

    /// The search path `collections` expands to (chains flattened, duplicates removed).
    public func flattenCollections(_ collections: [String]) async throws -> [String] {
        let registry = self.registry
        return try await registry.database.read { session in try registry.searchPath(session, collections).map(\.name) }
    }

    /// Adds datasets to a TAGGED collection (created if it does not exist).
    public func associate(_ tag: String, _ refs: [DatasetRef]) async throws {
        try requireWriteable("associate with \(tag)")
        let registry = self.registry
        try await registry.database.writeRetrying { session in
            if try registry.findCollection(session, named: tag) == nil {
                try registry.registerCollection(session, tag, type: .tagged)
            }
            try registry.associate(session, tag: tag, refs: refs)
        }
    }

    /// Removes datasets from a TAGGED collection.
    public func disassociate(_ tag: String, _ refs: [DatasetRef]) async throws {
        try requireWriteable("disassociate from \(tag)")
        let registry = self.registry
        try await registry.database.writeRetrying { session in try registry.disassociate(session, tag: tag, refs: refs) }
    }
}

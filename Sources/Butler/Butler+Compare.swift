public import Foundation

/// How two repositories differ in the datasets they hold (`butler verify --against`).
public struct RepositoryComparison: Sendable, Codable, Equatable {
    /// One dataset that differs.
    public struct Difference: Sendable, Codable, Equatable {
        /// The dataset (its ID in this repository).
        public let id: UUID
        /// `calexp@{…} in run` here.
        public let dataset: String
        /// What differs (`checksum`, `run`, `data ID`, `dataset type`, `ID`).
        public let what: String
        /// The value here.
        public let here: String
        /// The value in the other repository.
        public let there: String
    }

    /// Datasets compared (found in both).
    public var compared = 0
    /// Datasets only here (by ID, and no dataset of the same type, data ID and run there).
    public var onlyHere: [String] = []
    /// Datasets only there.
    public var onlyThere: [String] = []
    /// Datasets in both whose definition or bytes differ, and the same dataset (type, data ID,
    /// run) under two IDs.
    public var differences: [Difference] = []

    /// True when both hold the same datasets with the same bytes.
    public var isClean: Bool { onlyHere.isEmpty && onlyThere.isEmpty && differences.isEmpty }
}

extension Butler {
    /// Compares the datasets of `datasetTypes` (all when empty) in `collections` matching
    /// `where` here and in `other`: those only on one side, those whose ID names a different
    /// dataset, the same dataset under two IDs, and artifacts whose bytes differ — by the
    /// recorded checksums when both repositories use the same algorithm, else by reading both
    /// artifacts with SHA-256.
    public func compare(
        with other: Butler, collections: [String] = ["*"], where expression: String? = nil, datasetTypes: [String] = []
    ) async throws -> RepositoryComparison {
        func refs(_ butler: Butler) async throws -> [UUID: DatasetRef] {
            Dictionary(try await butler.queryDatasets(datasetTypes, collections: collections, where: expression).map { ($0.id, $0) }) {
                a, _ in a
            }
        }
        let here = try await refs(self)
        let there = try await refs(other)
        func key(_ ref: DatasetRef) -> String {
            ref.datasetType.name + "|" + ref.run + "|" + ref.dataId.required.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        }
        func describe(_ ref: DatasetRef) -> String {
            "\(ref.datasetType.name)@\(ref.dataId) in \(ref.run) (\(ref.id.uuidString.lowercased()))"
        }
        var report = RepositoryComparison()
        let thereByKey = Dictionary(there.values.map { (key($0), $0) }) { a, _ in a }
        let hereByKey = Dictionary(here.values.map { (key($0), $0) }) { a, _ in a }
        for ref in here.values.sorted(by: { key($0) < key($1) }) {
            guard let theirs = there[ref.id] else {
                if let twin = thereByKey[key(ref)] {
                    report.differences.append(
                        .init(
                            id: ref.id, dataset: describe(ref), what: "ID", here: ref.id.uuidString.lowercased(),
                            there: twin.id.uuidString.lowercased()))
                } else {
                    report.onlyHere.append(describe(ref))
                }
                continue
            }
            report.compared += 1
            let definitions: [(String, String, String)] = [
                ("dataset type", ref.datasetType.name, theirs.datasetType.name), ("run", ref.run, theirs.run),
                ("data ID", "\(ref.dataId)", "\(theirs.dataId)"),
            ]
            if let (what, mine, other) = definitions.first(where: { $0.1 != $0.2 }) {
                report.differences.append(.init(id: ref.id, dataset: describe(ref), what: what, here: mine, there: other))
                continue
            }
            let (mine, other) = try await checksums(ref, self, theirs, other)
            if mine != other {
                report.differences.append(.init(id: ref.id, dataset: describe(ref), what: "checksum", here: mine, there: other))
            }
        }
        for ref in there.values.sorted(by: { key($0) < key($1) }) where here[ref.id] == nil && hereByKey[key(ref)] == nil {
            report.onlyThere.append(describe(ref))
        }
        return report
    }

    /// The checksums of a dataset's artifacts on both sides, comparable: the recorded ones
    /// when they name the same algorithm, else SHA-256 of the bytes.
    private func checksums(_ ref: DatasetRef, _ here: Butler, _ theirs: DatasetRef, _ there: Butler) async throws -> (String, String) {
        let mine = try await here.artifactRecords(ref).sorted { $0.component < $1.component }
        let others = try await there.artifactRecords(theirs).sorted { $0.component < $1.component }
        let recorded = (mine.map { $0.checksum ?? "" }, others.map { $0.checksum ?? "" })
        let algorithms = Set((recorded.0 + recorded.1).map { ChecksumAlgorithm.of(recorded: $0) })
        if algorithms.count == 1, algorithms.first! != nil, mine.count == others.count {
            return (recorded.0.joined(separator: ","), recorded.1.joined(separator: ","))
        }
        return (try await Self.sha256(of: ref, in: here), try await Self.sha256(of: theirs, in: there))
    }

    private static func sha256(of ref: DatasetRef, in butler: Butler) async throws -> String {
        let urls = try await butler.artifactURLs(ref)
        var files = urls.filter(\.isFileURL)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("butler-compare-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Remote artifacts: every one fetched once, in record order as the URLs are.
        if files.count < urls.count { files = try await butler.retrieveArtifacts([ref], destination: scratch) }
        return try files.map { try ChecksumAlgorithm.sha256.checksum(ofFileAt: $0.path) ?? "" }.joined(separator: ",")
    }
}

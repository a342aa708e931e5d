/// Everything the Butler reports to its callers. Each message names the dataset type, data
/// ID, collection or file concerned, so that a pipeline log says what to fix.
public enum ButlerError: Error, CustomStringConvertible, Sendable {
    /// A configuration file or value is wrong.
    case configuration(String)
    /// A name is not a dimension of the universe.
    case unknownDimension(String, known: [String])
    /// A data ID is incomplete, has unknown keys, bad values or inconsistent implied values.
    case invalidDataId(String)
    /// A dimension record is missing, malformed or conflicts with an existing one.
    case dimensionRecord(String)
    /// No dataset type has this name.
    case missingDatasetType(String)
    /// A dataset type is being defined differently from its existing definition.
    case datasetTypeConflict(existing: String, new: String)
    /// A collection does not exist, has the wrong type, or cannot be changed as asked.
    case collection(String)
    /// No dataset matches.
    case datasetNotFound(String)
    /// The dataset already exists.
    case datasetExists(String)
    /// The repository was opened read-only and a write was attempted.
    case readOnly(String)
    /// The datastore could not store or read an artifact.
    case datastore(String)
    /// A query is malformed.
    case query(String)
    /// A value cannot be stored or returned as asked.
    case typeMismatch(String)

    public var description: String {
        switch self {
        case .configuration(let message): return "configuration error: \(message)"
        case .unknownDimension(let name, let known):
            return "unknown dimension '\(name)'; known dimensions: \(known.joined(separator: ", "))"
        case .invalidDataId(let message): return "invalid data ID: \(message)"
        case .dimensionRecord(let message): return "dimension record error: \(message)"
        case .missingDatasetType(let name): return "dataset type '\(name)' is not registered"
        case .datasetTypeConflict(let existing, let new):
            return "dataset type conflict: existing definition \(existing) differs from new definition \(new)"
        case .collection(let message): return "collection error: \(message)"
        case .datasetNotFound(let message): return "dataset not found: \(message)"
        case .datasetExists(let message): return "dataset already exists: \(message)"
        case .readOnly(let operation): return "repository is read-only: \(operation) refused"
        case .datastore(let message): return "datastore error: \(message)"
        case .query(let message): return "query error: \(message)"
        case .typeMismatch(let message): return "type mismatch: \(message)"
        }
    }
}

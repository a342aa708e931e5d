import ButlerTestSupport
import Testing

/// The datastore conformance suite (``DatastoreConformance``, written once in the support
/// target) on every datastore and registry engine available in this run.
@Suite("Datastore conformance")
struct DatastoreConformanceTests {
    @Test("every kind of value round-trips with its size and checksum recorded", arguments: DatastoreCase.all)
    func roundTrip(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).roundTrip() }

    @Test("components, derived components and cutouts read alone", arguments: DatastoreCase.all)
    func components(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).components() }

    @Test("a write failing in the formatter or the registry leaves nothing", arguments: DatastoreCase.all)
    func failedWrites(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).failedWritesLeaveNothing() }

    @Test("a missing artifact and a corrupt one are told apart", arguments: DatastoreCase.all)
    func missingAndCorrupt(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).missingAndCorruptArtifacts() }

    @Test("removal is two-phase and keeps shared artifacts while used", arguments: DatastoreCase.all)
    func trash(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).trash() }

    @Test("retrieved artifacts hold the stored bytes", arguments: DatastoreCase.all)
    func retrieve(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).retrieve() }

    @Test("ingest in every transfer mode changes nothing the user owns unless asked", arguments: DatastoreCase.all)
    func ingest(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).ingest() }

    @Test("records trashed and imported again make a dataset readable; a record without artifact is refused", arguments: DatastoreCase.all)
    func importRecords(testCase: DatastoreCase) async throws { try await DatastoreConformance(testCase).importRecords() }
}

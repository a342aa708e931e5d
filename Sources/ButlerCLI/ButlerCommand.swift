import ArgumentParser

/// The `butler` command: daf_butler's subcommand names and argument order, so that a
/// daf_butler user's commands carry over.
@main
struct ButlerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "butler",
        abstract: "Store and retrieve astronomical datasets by dataset type, data ID and collections.",
        subcommands: [
            Create.self, ConfigDump.self, Demo.self,
            RegisterDatasetType.self, RemoveDatasetType.self, QueryDatasetTypes.self,
            QueryCollections.self, CollectionChain.self, RemoveCollections.self, Associate.self,
            InsertDimensionRecords.self, QueryDimensionRecords.self, QueryDataIds.self,
            QueryDatasets.self, IngestFiles.self, IngestRaws.self, RetrieveArtifacts.self, Get.self, Put.self,
            RemoveRuns.self, PruneDatasets.self, Verify.self, ImageInfo.self, ImageConvert.self,
        ])
}

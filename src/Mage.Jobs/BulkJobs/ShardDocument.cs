namespace Mage.Jobs.BulkJobs;

/// <summary>A shard of a job: the blobs it covers and what to compute for each. Stored as <c>jobs/{jobId}/shards/{n}.json</c>.</summary>
internal sealed record ShardDocument(
    string JobId,
    int Shard,
    string SourceContainer,
    string OutputContainer,
    string OutputPrefix,
    JobRecipe Recipe,
    IReadOnlyList<ShardBlob> Blobs);

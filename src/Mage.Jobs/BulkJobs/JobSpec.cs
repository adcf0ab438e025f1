namespace Mage.Jobs.BulkJobs;

/// <summary>A validated job.</summary>
internal sealed record JobSpec(
    string JobId,
    string SourceContainer,
    string? SourcePrefix,
    IReadOnlyList<string>? Blobs,
    string OutputContainer,
    string OutputPrefix,
    JobRecipe Recipe,
    int ShardSize);

namespace Mage.Jobs.BulkJobs;

/// <summary>A validated job.</summary>
internal sealed record JobSpec(
    string JobId,
    string SourceContainer,
    string? SourcePrefix,
    IReadOnlyList<string>? Blobs,
    string? BlobList,
    string OutputContainer,
    string OutputPrefix,
    JobRecipe Recipe,
    int ShardSize)
{
    /// <summary>The job's recorded caller (<see cref="Http.ApiCaller.Name"/>), or null when it was sent straight to the queue.</summary>
    public string? Caller { get; init; }

    /// <summary>The listing range this delivery lists (<see cref="JobMessage.ListRange"/>), or null for the job message itself.</summary>
    public int? ListRange { get; init; }
}

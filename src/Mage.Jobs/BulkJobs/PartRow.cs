namespace Mage.Jobs.BulkJobs;

/// <summary>One image of a shard while it is computed: its blob, and its value or why it has none.</summary>
internal sealed class PartRow
{
    public required string Name { get; init; }

    public string? Etag { get; set; }

    public float[]? Embedding { get; set; }

    public long[]? Tokens { get; set; }

    public string? Error { get; set; }
}

namespace Mage.Jobs.BulkJobs;

/// <summary>One blob of a shard; the etag is the listed version (null for explicit lists).</summary>
internal sealed record ShardBlob(string Name, string? Etag);

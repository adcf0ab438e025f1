namespace Mage.Jobs.Services;

/// <summary>One blob of a shard; the etag is the listed version (null for explicit lists).</summary>
public sealed record ShardBlob(string Name, string? Etag);

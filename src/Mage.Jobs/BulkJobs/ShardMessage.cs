using System.Text.Json.Serialization;

namespace Mage.Jobs.BulkJobs;

/// <summary>The queue message that asks a worker to process one shard.</summary>
public sealed record ShardMessage([property: JsonPropertyName("jobId")] string JobId, [property: JsonPropertyName("shard")] int Shard);

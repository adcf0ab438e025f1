using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Jobs.Services;

/// <summary>
/// The status document of a bulk job, <c>jobs/{jobId}/status.json</c> in the jobs container.
/// Updated with optimistic concurrency (ETag If-Match) by the submitter and every shard worker.
/// <see cref="DoneShards"/> is a base64 bitmap of shards already counted, so a redelivered shard
/// never counts twice.
/// </summary>
public sealed record JobStatus
{
    public required string JobId { get; init; }
    public required JobState State { get; init; }
    public string? Reason { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? SourceContainer { get; init; }
    public string? SourcePrefix { get; init; }
    public string? OutputContainer { get; init; }
    public string? OutputPrefix { get; init; }
    public FeaturePooling? Pooling { get; init; }
    public bool Normalize { get; init; }
    public PreprocessMode? Preprocess { get; init; }
    public int ShardSize { get; init; }
    public long ImagesTotal { get; init; }
    public int ShardsTotal { get; init; }
    public int ShardsDone { get; init; }
    public int ShardsFailed { get; init; }
    public long ImagesDone { get; init; }
    public long ImagesFailed { get; init; }

    /// <summary>True once every shard message has been enqueued.</summary>
    public bool Enqueued { get; init; }

    /// <summary>Images per second since <see cref="StartedAt"/>.</summary>
    public double? ImagesPerSecond { get; init; }

    /// <summary>Estimated seconds to completion at the current throughput.</summary>
    public double? EtaSeconds { get; init; }

    /// <summary>Bitmap of shards already counted (bit n = shard n), base64.</summary>
    public string DoneShards { get; init; } = "";

    public bool IsShardCounted(int shard)
    {
        var bits = DoneShards.Length == 0 ? [] : Convert.FromBase64String(DoneShards);
        return shard / 8 < bits.Length && (bits[shard / 8] & (1 << (shard % 8))) != 0;
    }

    /// <summary>This status with shard <paramref name="shard"/> counted as done (or failed).</summary>
    public JobStatus WithShard(int shard, long imagesOk, long imagesFailed, bool shardFailed, DateTimeOffset now)
    {
        var bits = DoneShards.Length == 0 ? new byte[(ShardsTotal + 7) / 8] : Convert.FromBase64String(DoneShards);
        if (bits.Length < (shard / 8) + 1)
        {
            Array.Resize(ref bits, (shard / 8) + 1);
        }

        bits[shard / 8] |= (byte)(1 << (shard % 8));
        var next = this with
        {
            DoneShards = Convert.ToBase64String(bits),
            ShardsDone = ShardsDone + (shardFailed ? 0 : 1),
            ShardsFailed = ShardsFailed + (shardFailed ? 1 : 0),
            ImagesDone = ImagesDone + imagesOk,
            ImagesFailed = ImagesFailed + imagesFailed,
            UpdatedAt = now,
        };
        var processed = next.ImagesDone + next.ImagesFailed;
        var elapsed = (now - (StartedAt ?? CreatedAt)).TotalSeconds;
        double? rate = elapsed > 0 ? processed / elapsed : null;
        next = next with
        {
            ImagesPerSecond = rate,
            EtaSeconds = rate > 0 ? Math.Max(0, next.ImagesTotal - processed) / rate : null,
        };
        if (next.ShardsDone + next.ShardsFailed >= next.ShardsTotal)
        {
            next = next with { State = JobState.Completed, CompletedAt = now, EtaSeconds = 0 };
        }

        return next;
    }
}

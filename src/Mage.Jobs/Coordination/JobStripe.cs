using System.Globalization;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Coordination;

/// <summary>
/// One stripe of a job's shard counts (<see cref="ResultsLayout.JobStripe"/>): stripe i
/// of K counts shards i, i + K, i + 2K, … with a bitmap of those already counted and their sums.
/// Shard commits update their stripe with the same ETag loop as the status document, so K stripes
/// share the writes that one document took before; once every stripe is complete they are folded
/// into <c>status.json</c> in one write (<see cref="ShardCounter"/>), and deleted as the job completes. Whether a stripe is complete depends on the
/// job's shard total, which is known only once its listing has ended (<see cref="IsCompleteIn"/>):
/// shards counted while the job is still listing stay in their stripes until then. Stored as the metadata of an empty blob,
/// so that one List call with metadata reads every stripe of a job.
/// </summary>
internal sealed record JobStripe
{
    /// <summary>Most stripes per job: one listing page, and 64 documents share the commits of 100 replicas well below Azure's per-blob rate.</summary>
    public const int MaxStripes = 64;

    /// <summary>Fewest shards per stripe: a small job keeps few stripes, and its folds stay few.</summary>
    public const int MinShardsPerStripe = 16;

    private const string IndexKey = "index";
    private const string StripesKey = "stripes";
    private const string DoneKey = "done";
    private const string ShardsDoneKey = "shardsdone";
    private const string ShardsFailedKey = "shardsfailed";
    private const string ImagesDoneKey = "imagesdone";
    private const string ImagesFailedKey = "imagesfailed";
    private const string UpdatedKey = "updated";

    /// <summary>This stripe's number, 0 ≤ Index &lt; <see cref="Stripes"/>.</summary>
    public required int Index { get; init; }

    /// <summary>The job's stripe count (<see cref="JobStatus.Stripes"/>).</summary>
    public required int Stripes { get; init; }

    /// <summary>Bitmap of this stripe's shards already counted: bit k is shard Index + k * Stripes.</summary>
    public string DoneShards { get; init; } = "";

    public int ShardsDone { get; init; }

    public int ShardsFailed { get; init; }

    public long ImagesDone { get; init; }

    public long ImagesFailed { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// Every shard of the stripe is counted, as far as <paramref name="status"/> (the job's status
    /// document) knows: never while the job is listing, since more shards may still join the stripe.
    /// </summary>
    public bool IsCompleteIn(JobStatus status) =>
        status.State != JobState.Listing && ShardsDone + ShardsFailed >= ShardsOf(Index, Stripes, status.ShardsTotal);

    /// <summary>
    /// The stripe count of a job of <paramref name="shardsTotal"/> shards; a job whose listing goes
    /// on past its first page (total not known yet) takes <see cref="MaxStripes"/>.
    /// </summary>
    public static int CountFor(int shardsTotal) => Math.Clamp(shardsTotal / MinShardsPerStripe, 1, MaxStripes);

    /// <summary>How many of a job's <paramref name="shardsTotal"/> shards stripe <paramref name="index"/> of <paramref name="stripes"/> counts.</summary>
    public static int ShardsOf(int index, int stripes, int shardsTotal) => Math.Max(0, (shardsTotal - index + stripes - 1) / stripes);

    /// <summary>The stripe that counts <paramref name="shard"/>. Consecutive shards, which run at the same time, land in different stripes.</summary>
    public static int IndexOf(int shard, int stripes) => shard % stripes;

    /// <summary>Stripe <paramref name="index"/> of a job with nothing counted yet.</summary>
    public static JobStripe Empty(int index, int stripes, DateTimeOffset now) => new()
    {
        Index = index,
        Stripes = stripes,
        UpdatedAt = now,
    };

    public bool IsCounted(int shard) => IndexOf(shard, Stripes) == Index && ShardBitmap.IsSet(DoneShards, shard / Stripes);

    /// <summary>This stripe with <paramref name="shard"/> counted; callers check <see cref="IsCounted"/> first.</summary>
    public JobStripe WithShard(int shard, long imagesOk, long imagesFailed, bool shardFailed, DateTimeOffset now) => this with
    {
        DoneShards = ShardBitmap.With(DoneShards, 0, [shard / Stripes]),
        ShardsDone = ShardsDone + (shardFailed ? 0 : 1),
        ShardsFailed = ShardsFailed + (shardFailed ? 1 : 0),
        ImagesDone = ImagesDone + imagesOk,
        ImagesFailed = ImagesFailed + imagesFailed,
        UpdatedAt = now,
    };

    /// <summary>The job's shard numbers counted here.</summary>
    public IEnumerable<int> CountedShards() => ShardBitmap.Indices(DoneShards).Select(k => Index + (k * Stripes));

    public Dictionary<string, string> ToMetadata() => new(StringComparer.Ordinal)
    {
        [IndexKey] = Text(Index),
        [StripesKey] = Text(Stripes),
        [DoneKey] = DoneShards,
        [ShardsDoneKey] = Text(ShardsDone),
        [ShardsFailedKey] = Text(ShardsFailed),
        [ImagesDoneKey] = Text(ImagesDone),
        [ImagesFailedKey] = Text(ImagesFailed),
        [UpdatedKey] = UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>The stripe a blob's metadata holds, or null when it holds none (or not all of one).</summary>
    public static JobStripe? FromMetadata(IDictionary<string, string>? metadata)
    {
        if (metadata is null
            || !TryInt(metadata, IndexKey, out var index) || !TryInt(metadata, StripesKey, out var stripes)
            || !TryInt(metadata, ShardsDoneKey, out var shardsDone) || !TryInt(metadata, ShardsFailedKey, out var shardsFailed)
            || !TryLong(metadata, ImagesDoneKey, out var imagesDone) || !TryLong(metadata, ImagesFailedKey, out var imagesFailed)
            || !metadata.TryGetValue(UpdatedKey, out var updatedText)
            || !DateTimeOffset.TryParseExact(updatedText, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var updated)
            || stripes < 1 || index >= stripes)
        {
            return null;
        }

        return new JobStripe
        {
            DoneShards = metadata.TryGetValue(DoneKey, out var done) ? done : "",
            Index = index,
            Stripes = stripes,
            ShardsDone = shardsDone,
            ShardsFailed = shardsFailed,
            ImagesDone = imagesDone,
            ImagesFailed = imagesFailed,
            UpdatedAt = updated,
        };
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool TryInt(IDictionary<string, string> metadata, string key, out int value)
    {
        value = 0;
        return metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryLong(IDictionary<string, string> metadata, string key, out long value)
    {
        value = 0;
        return metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

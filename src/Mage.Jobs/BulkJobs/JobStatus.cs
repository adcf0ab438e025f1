using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.Coordination;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// The status document of a bulk job, <c>jobs/{jobId}/status.json</c> in the jobs container.
/// Updated with optimistic concurrency (ETag If-Match) by the submitter and, for shards, once by
/// the worker (or the listing) that finds every stripe complete (<see cref="Stripes"/>).
/// <see cref="DoneShards"/> is a base64 bitmap of shards already counted, so a redelivered shard
/// never counts twice. While the job is <see cref="JobState.Listing"/>, <see cref="ShardsTotal"/> and
/// <see cref="ImagesTotal"/> count what the listing has committed so far, and those shards already
/// run; the job completes only once its listing has ended and every shard is counted.
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

    /// <summary>The blob that lists the job's images (<see cref="JobSourceRequest.List"/>), or null.</summary>
    public string? SourceList { get; init; }
    public string? OutputContainer { get; init; }
    public string? OutputPrefix { get; init; }

    /// <summary>What the job writes for each image; null in documents of jobs that predate kinds (embeddings).</summary>
    public JobKind? Kind { get; init; }

    public FeaturePooling? Pooling { get; init; }
    public bool Normalize { get; init; }
    public PreprocessMode? Preprocess { get; init; }
    public int ShardSize { get; init; }

    /// <summary>
    /// Who submitted the job over HTTP (<see cref="Http.ApiCaller.Name"/>: <c>key</c> or
    /// <c>aad:{object id}</c>); null for a job sent straight to the queue. Only callers that
    /// <see cref="Http.ApiCaller.MaySee"/> it get the job's status.
    /// </summary>
    public string? Caller { get; init; }
    /// <summary>Images listed: so far while the job is listing, then the job's total.</summary>
    public long ImagesTotal { get; init; }

    /// <summary>Shards written and committed: so far while the job is listing, then the job's total.</summary>
    public int ShardsTotal { get; init; }
    public int ShardsDone { get; init; }
    public int ShardsFailed { get; init; }
    public long ImagesDone { get; init; }
    public long ImagesFailed { get; init; }

    /// <summary>True once the listing has ended and every shard message has been enqueued.</summary>
    public bool Enqueued { get; init; }

    /// <summary>Shard messages sent so far: shards 0 to <c>ShardsEnqueued - 1</c> (those after it may be sent again after a crash).</summary>
    public int ShardsEnqueued { get; init; }

    /// <summary>
    /// Where the listing goes on (the last committed position): the continuation token of the next
    /// page of a prefix, or the byte offset of the next line of <see cref="SourceList"/>; null before
    /// the first page. Only the listing reads it.
    /// </summary>
    public string? ListCursor { get; init; }

    /// <summary>The ETag of <see cref="SourceList"/> when its first page was read: the rest is read only from that version.</summary>
    public string? SourceListETag { get; init; }

    /// <summary>
    /// The ranges a job over a prefix lists in parallel (<see cref="Options.LimitSettings.ListRanges"/>),
    /// or null for a job listed as one range (from <see cref="ListCursor"/>). Set by the job message's
    /// first delivery, before any page is listed; the listing has ended when every range has.
    /// </summary>
    public IReadOnlyList<ListRange>? ListRanges { get; init; }

    /// <summary>Virtual folders the ranges share out (a job listed in ranges).</summary>
    public int ListFolders { get; init; }

    /// <summary>Folders taken by a range so far: the next range that ends a folder takes this one.</summary>
    public int ListFoldersTaken { get; init; }

    /// <summary>True once the messages of the ranges have been sent (the job message's work for a job listed in ranges).</summary>
    public bool ListRangesSent { get; init; }

    /// <summary>Images per second since <see cref="StartedAt"/>.</summary>
    public double? ImagesPerSecond { get; init; }

    /// <summary>Estimated seconds to completion at the current throughput.</summary>
    public double? EtaSeconds { get; init; }

    /// <summary>
    /// How many stripe documents count this job's shards (<see cref="JobStripe"/>); set by the
    /// listing's first commit, before any shard is enqueued (0 until then).
    /// </summary>
    public int Stripes { get; init; }

    /// <summary>
    /// Bitmap of shards already counted (bit n = shard n), base64. A shard's bit is set here when
    /// the stripes are folded in, as the job completes; until then it is set in its stripe.
    /// </summary>
    public string DoneShards { get; init; } = "";

    public bool IsShardCounted(int shard) => ShardBitmap.IsSet(DoneShards, shard);

    /// <summary>Listing range <paramref name="index"/>, or null when the job has no such range.</summary>
    internal ListRange? RangeOf(int index) => ListRanges?.FirstOrDefault(r => r.Index == index);

    /// <summary>This status with <paramref name="range"/> in place of the range of its index.</summary>
    internal JobStatus WithRange(ListRange range) => this with { ListRanges = [.. (ListRanges ?? []).Select(r => r.Index == range.Index ? range : r)] };

    /// <summary>
    /// Whether stripe <paramref name="stripe"/> has been folded into this document. Folding sets the
    /// bits of all the stripe's shards at once, and stripe s counts shard s, so its bit says.
    /// </summary>
    internal bool IsStripeFolded(int stripe) => IsShardCounted(stripe);

    /// <summary>This status with a complete stripe's shards and sums added (once: see <see cref="IsStripeFolded"/>).</summary>
    internal JobStatus WithStripe(JobStripe stripe, DateTimeOffset now) => WithStripes([stripe], now);

    /// <summary>This status with complete stripes' shards and sums added (each once: see <see cref="IsStripeFolded"/>); completed when they were the last.</summary>
    internal JobStatus WithStripes(IReadOnlyCollection<JobStripe> stripes, DateTimeOffset now) =>
        (Add(stripes) with { UpdatedAt = now }).Counted(now);

    /// <summary>
    /// What the job has counted so far: this document plus the stripes not folded into it yet
    /// (listed before this document was read, so a stripe folded in between is in this document and
    /// skipped). Throughput and ETA are as of the latest count. The state stays this document's.
    /// </summary>
    internal JobStatus WithUnfolded(IEnumerable<JobStripe> stripes)
    {
        if (State is not (JobState.Running or JobState.Listing))
        {
            return this;
        }

        var pending = stripes.Where(s => s.Stripes == Stripes && s.Index < Stripes && !IsStripeFolded(s.Index)).ToList();
        if (pending.Count == 0)
        {
            return this;
        }

        var next = Add(pending);
        next = next with { UpdatedAt = pending.Select(s => s.UpdatedAt).Append(UpdatedAt).Max() };
        return next.WithProgress(next.UpdatedAt);
    }

    private JobStatus Add(IReadOnlyCollection<JobStripe> stripes) => this with
    {
        DoneShards = ShardBitmap.With(DoneShards, ShardsTotal, stripes.SelectMany(s => s.CountedShards())),
        ShardsDone = ShardsDone + stripes.Sum(s => s.ShardsDone),
        ShardsFailed = ShardsFailed + stripes.Sum(s => s.ShardsFailed),
        ImagesDone = ImagesDone + stripes.Sum(s => s.ImagesDone),
        ImagesFailed = ImagesFailed + stripes.Sum(s => s.ImagesFailed),
    };

    /// <summary>Throughput and ETA as of <paramref name="now"/>, and completed once the listing has ended and every shard is counted.</summary>
    private JobStatus Counted(DateTimeOffset now)
    {
        var next = WithProgress(now);
        return next.State == JobState.Running && next.ShardsDone + next.ShardsFailed >= next.ShardsTotal
            ? next with { State = JobState.Completed, CompletedAt = now, EtaSeconds = 0 }
            : next;
    }

    private JobStatus WithProgress(DateTimeOffset at)
    {
        var processed = ImagesDone + ImagesFailed;
        var elapsed = (at - (StartedAt ?? CreatedAt)).TotalSeconds;
        double? rate = elapsed > 0 ? processed / elapsed : null;
        return this with
        {
            ImagesPerSecond = rate,
            EtaSeconds = rate > 0 && State != JobState.Listing ? Math.Max(0, ImagesTotal - processed) / rate : null, // the total is not known while listing
        };
    }
}

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// One run of <see cref="SubmitScenario"/>, in seconds from the start of the step it names.
/// <see cref="ListSeconds"/> is a bare listing of the source (pages of 5000); the submit times
/// are of <c>SubmitJobService.SubmitAsync</c> and the continuations it sends: until the status
/// says running (listing ended, every shard list written), until the first shard message is in
/// the queue, and until the last delivery returns.
/// </summary>
internal sealed record SubmitResult(
    int Blobs,
    int ShardSize,
    double? CreateSeconds,
    double ListSeconds,
    int ListPages,
    double ListBlobsPerSecond,
    int Shards,
    double RunningSeconds,
    double FirstShardSeconds,
    double SubmitSeconds,
    double ShardListsPerSecond,
    double EnqueuedPerSecond,
    IReadOnlyDictionary<string, long> Requests)
{
    /// <summary>Deliveries of the job message the listing took (the first and its continuations).</summary>
    public int Deliveries { get; init; }

    /// <summary>Source blobs listed into shards per second, until the status said running.</summary>
    public double ListedPerSecond { get; init; }

    /// <summary>Virtual folders the source's blobs lie in (0: all in one folder, <c>img/</c>).</summary>
    public int Folders { get; init; }

    /// <summary>The services' <c>Mage:Limits:ListRanges</c> (0: their default).</summary>
    public int Ranges { get; init; }

    /// <summary>
    /// The storage requests of the submit up to the first shard message sent, in order: where the
    /// time before the first shard goes (milliseconds from the start; the watchers' requests are not in it).
    /// </summary>
    public IReadOnlyList<TimedRequest> FirstShardTimeline { get; init; } = [];
}

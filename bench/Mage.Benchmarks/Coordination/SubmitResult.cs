namespace Mage.Benchmarks.Coordination;

/// <summary>
/// One run of <see cref="SubmitScenario"/>, in seconds from the start of the step it names.
/// <see cref="ListSeconds"/> is a bare listing of the source (pages of 5000); the submit times
/// are of <c>SubmitJobService.SubmitAsync</c>: until the status says running (listing and shard
/// lists written), until the first shard message is in the queue, and until it returns.
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
    IReadOnlyDictionary<string, long> Requests);

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// One run of <see cref="CommitScenario"/>: <see cref="Concurrency"/> workers counting
/// <see cref="Shards"/> committed shards of one job. "Status writes" are the Put Blob calls on the
/// documents that count shards (the job's <c>status.json</c>, and its stripes where there are any).
/// Rates are per second of <see cref="Seconds"/>; latencies are per shard message, in milliseconds.
/// </summary>
internal sealed record CommitResult(
    int Concurrency,
    int Stripes,
    int Shards,
    int Counted,
    double Seconds,
    double ShardsPerSecond,
    long StatusWrites,
    long StatusWritesOk,
    long StatusConflicts,
    double StatusWritesPerSecond,
    double StatusWritesOkPerSecond,
    double ConflictRate,
    long MainDocumentWrites,
    long MainDocumentReads,
    double RequestsPerShard,
    int Redeliveries,
    double LatencyP50Ms,
    double LatencyP99Ms,
    double LatencyMaxMs,
    bool Completed,
    bool CountsExact,
    int CompletionEvents,
    IReadOnlyDictionary<string, int> Outcomes,
    IReadOnlyDictionary<string, int> Errors,
    IReadOnlyDictionary<string, long> Requests);

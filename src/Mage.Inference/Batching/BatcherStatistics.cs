namespace Mage.Inference.Batching;

/// <summary>
/// A snapshot of a batcher's counters since it was created, for logs and benchmarks. Immutable;
/// the counters are read one by one, so under load they may differ by a request or two.
/// </summary>
/// <param name="RequestsSubmitted">Requests accepted into the queue.</param>
/// <param name="RequestsRejected">Requests refused because the queue was full.</param>
/// <param name="RequestsCancelled">Requests whose callers cancelled before a result was set.</param>
/// <param name="BatchesRun">Batch function calls for whole batches (retries of single requests not counted).</param>
/// <param name="RequestsBatched">Requests in those batches.</param>
/// <param name="BatchesFailed">Batches whose batch function threw.</param>
/// <param name="LargestBatch">The most requests seen in one batch.</param>
public sealed record BatcherStatistics(
    long RequestsSubmitted,
    long RequestsRejected,
    long RequestsCancelled,
    long BatchesRun,
    long RequestsBatched,
    long BatchesFailed,
    int LargestBatch)
{
    /// <summary>Mean requests per batch; 0 before the first batch.</summary>
    public double MeanBatchSize => BatchesRun == 0 ? 0 : (double)RequestsBatched / BatchesRun;
}

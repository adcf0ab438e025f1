using Microsoft.Extensions.Logging;

namespace Mage.Inference.Batching;

/// <summary>Log messages of <see cref="RequestBatcher{TRequest, TResult}"/>, generated so a
/// disabled level costs no formatting or boxing on the per-batch path.</summary>
internal static partial class BatcherLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug,
        Message = "Batcher {BatcherName} ran a batch of {BatchSize} requests in {ElapsedMs:F1} ms; {QueueLength} still queued")]
    public static partial void BatchCompleted(ILogger logger, string batcherName, int batchSize, double elapsedMs, int queueLength);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Batcher {BatcherName}: batch function failed for a batch of {BatchSize} requests; retrying each request alone")]
    public static partial void RetryingAlone(ILogger logger, Exception exception, string batcherName, int batchSize);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug,
        Message = "Batcher {BatcherName}: every caller of a batch of {BatchSize} requests cancelled; batch abandoned")]
    public static partial void BatchAbandoned(ILogger logger, string batcherName, int batchSize);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug,
        Message = "Batcher {BatcherName} refused a request: {MaxQueueLength} requests already queued")]
    public static partial void QueueFull(ILogger logger, string batcherName, int maxQueueLength);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug,
        Message = "Batcher {BatcherName} stopped accepting requests; draining {QueueLength} queued")]
    public static partial void Draining(ILogger logger, string batcherName, int queueLength);

    [LoggerMessage(EventId = 6, Level = LogLevel.Critical,
        Message = "Batcher {BatcherName} stopped unexpectedly; queued requests fail")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string batcherName);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error,
        Message = "Batcher {BatcherName} failed a batch of {BatchSize} requests unexpectedly; its callers get the exception")]
    public static partial void BatchFailedUnexpectedly(ILogger logger, Exception exception, string batcherName, int batchSize);
}

namespace Mage.Inference.Batching;

/// <summary>
/// A <see cref="RequestBatcher{TRequest, TResult}"/> refused a request because its queue already
/// held <see cref="BatcherOptions.MaxQueueLength"/> requests. Callers should back off and retry,
/// or shed the load (for example answer HTTP 503 or let a queue message become visible again).
/// </summary>
public sealed class BatchQueueFullException : MageException
{
    public BatchQueueFullException(string batcherName, int maxQueueLength)
        : base($"Batcher '{batcherName}' already has {maxQueueLength} requests queued, its MaxQueueLength; retry later or raise MaxQueueLength.")
    {
        BatcherName = batcherName;
        MaxQueueLength = maxQueueLength;
    }

    public string BatcherName { get; }

    public int MaxQueueLength { get; }
}

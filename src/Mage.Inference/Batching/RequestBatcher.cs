using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Mage.Inference.Batching;

/// <summary>
/// Merges requests from many concurrent callers into batches for one model call each.
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> Create one per model session (typically a singleton) and dispose it
/// at shutdown. <see cref="DisposeAsync"/> stops accepting requests, runs every request already
/// queued, waits for running batches and then returns; if the batch function never returns,
/// neither does disposal.</para>
/// <para><b>Thread safety.</b> <see cref="SubmitAsync"/>, <see cref="GetStatistics"/> and
/// <see cref="DisposeAsync"/> may be called from any thread at any time. The batch function is
/// called from a background loop, by default one call at a time
/// (<see cref="BatcherOptions.MaxConcurrentBatches"/>): an ONNX Runtime session already spreads
/// a call over the cores or the GPU, so overlapping calls would only contend.</para>
/// <para><b>Batching.</b> A batch closes when it holds <see cref="BatcherOptions.MaxBatchSize"/>
/// requests or <see cref="BatcherOptions.MaxWait"/> after its first request was taken from the
/// queue, whichever comes first.</para>
/// <para><b>Failures.</b> The batch function returns one <see cref="BatchItemResult{TResult}"/>
/// per request, in order, so a bad input fails only its own caller. If the batch function
/// throws instead, the exception says nothing about which request caused it; so a batch of more
/// than one request is retried once with each request alone, and only a request that also
/// fails alone gets an exception (the one it threw alone). One poisonous request thus cannot
/// fail its neighbours, at the price of one extra model call per request of a failed batch.
/// Returning the wrong number of results counts as the batch function throwing.</para>
/// <para><b>Cancellation.</b> A caller that cancels before its request reaches the batch
/// function gets a cancelled task at once, and the batch function never sees the request (it
/// still holds its queue slot until the loop skips it). A caller that cancels while its batch
/// runs gets a cancelled task at once and the batch goes on for the others; only when every
/// caller of a batch has cancelled is the token given to the batch function cancelled.</para>
/// </remarks>
/// <typeparam name="TRequest">One caller's input.</typeparam>
/// <typeparam name="TResult">One caller's output.</typeparam>
internal sealed class RequestBatcher<TRequest, TResult> : IAsyncDisposable
{
    private readonly BatcherOptions options;
    private readonly ILogger logger;
    private readonly Func<IReadOnlyList<TRequest>, CancellationToken, ValueTask<IReadOnlyList<BatchItemResult<TResult>>>> batchFunction;
    private readonly Channel<Pending> queue;
    private readonly SemaphoreSlim batchSlots;
    private readonly Task loop;

    private int disposed;
    private long requestsSubmitted;
    private long requestsRejected;
    private long requestsCancelled;
    private long batchesRun;
    private long requestsBatched;
    private long batchesFailed;
    private int largestBatch;

    /// <param name="options">Validated here; see <see cref="BatcherOptions.Validate"/>.</param>
    /// <param name="logger">Receives one Debug message per batch and a Warning per failed batch.</param>
    /// <param name="batchFunction">Runs one batch: returns exactly one result per request, in
    /// the same order. It must not keep the request list after it returns.</param>
    public RequestBatcher(
        BatcherOptions options,
        ILogger logger,
        Func<IReadOnlyList<TRequest>, CancellationToken, ValueTask<IReadOnlyList<BatchItemResult<TResult>>>> batchFunction)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(batchFunction);
        options.Validate();

        this.options = options;
        this.logger = logger;
        this.batchFunction = batchFunction;
        queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxQueueLength)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        batchSlots = new SemaphoreSlim(options.MaxConcurrentBatches, options.MaxConcurrentBatches);
        loop = Task.Run(RunLoopAsync);
    }

    public BatcherOptions Options => options;

    /// <summary>
    /// Queues <paramref name="request"/> for the next batch and completes with its result.
    /// </summary>
    /// <returns>A task that completes with the request's value, faults with the exception the
    /// batch function gave for it, faults with <see cref="BatchQueueFullException"/> at once when
    /// the queue is full, or is cancelled when <paramref name="cancellationToken"/> is.</returns>
    /// <exception cref="ObjectDisposedException">Disposal of the batcher has begun.</exception>
    public Task<TResult> SubmitAsync(TRequest request, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var pending = new Pending(this, request, cancellationToken);
        // Registered before the write so the loop, once it can see the request, also sees the
        // registration it must undo when completing it.
        pending.WatchCancellation();
        if (!queue.Writer.TryWrite(pending))
        {
            pending.StopWatchingCancellation();
            // TryWrite also fails once disposal completed the writer; that is a disposal race,
            // not overload.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            Interlocked.Increment(ref requestsRejected);
            BatcherLog.QueueFull(logger, options.Name, options.MaxQueueLength);
            return Task.FromException<TResult>(new BatchQueueFullException(options.Name, options.MaxQueueLength));
        }

        Interlocked.Increment(ref requestsSubmitted);
        return pending.Task;
    }

    /// <summary>Reads the counters; see <see cref="BatcherStatistics"/> for their meaning.</summary>
    public BatcherStatistics GetStatistics() => new(
        Interlocked.Read(ref requestsSubmitted),
        Interlocked.Read(ref requestsRejected),
        Interlocked.Read(ref requestsCancelled),
        Interlocked.Read(ref batchesRun),
        Interlocked.Read(ref requestsBatched),
        Interlocked.Read(ref batchesFailed),
        Volatile.Read(ref largestBatch));

    /// <summary>
    /// Stops accepting requests, runs every queued request, waits for running batches, then
    /// returns. Safe to call more than once and from several threads.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            BatcherLog.Draining(logger, options.Name, queue.Reader.Count);
            queue.Writer.TryComplete();
        }

        await loop.ConfigureAwait(false);
        batchSlots.Dispose();
    }

    private async Task RunLoopAsync()
    {
        var reader = queue.Reader;
        try
        {
            while (true)
            {
                // Take the slot before collecting, so requests keep piling up in the queue (and
                // cancelled ones get skipped) while the previous batch runs.
                await batchSlots.WaitAsync().ConfigureAwait(false);
                var batch = await CollectBatchAsync(reader).ConfigureAwait(false);
                if (batch is null)
                {
                    batchSlots.Release();
                    break;
                }

                // Not awaited: RunBatchAsync never throws and releases the slot itself, which
                // is what lets MaxConcurrentBatches > 1 overlap calls.
                _ = RunBatchAsync(batch);
            }

            for (var i = 0; i < options.MaxConcurrentBatches; i++)
            {
                await batchSlots.WaitAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A dying loop would leave callers waiting forever; fail them instead.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            BatcherLog.LoopFailed(logger, exception, options.Name);
            queue.Writer.TryComplete();
            while (reader.TryRead(out var pending))
            {
                pending.SetException(new InvalidOperationException($"Batcher '{options.Name}' stopped unexpectedly.", exception));
            }
        }
    }

    /// <returns>The next batch of live requests, or <see langword="null"/> once the queue is
    /// completed and empty.</returns>
    private async ValueTask<List<Pending>?> CollectBatchAsync(ChannelReader<Pending> reader)
    {
        var batch = new List<Pending>(Math.Min(options.MaxBatchSize, 64));
        while (batch.Count == 0)
        {
            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                return null;
            }

            TakeAvailable(reader, batch);
        }

        if (batch.Count < options.MaxBatchSize && options.MaxWait > TimeSpan.Zero)
        {
            using var maxWait = new CancellationTokenSource(options.MaxWait);
            try
            {
                while (batch.Count < options.MaxBatchSize
                    && await reader.WaitToReadAsync(maxWait.Token).ConfigureAwait(false))
                {
                    TakeAvailable(reader, batch);
                }
            }
            catch (OperationCanceledException) when (maxWait.IsCancellationRequested)
            {
                // MaxWait is up: the batch goes as it is.
            }
        }

        return batch;
    }

    private void TakeAvailable(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < options.MaxBatchSize && reader.TryRead(out var pending))
        {
            if (!pending.IsCompleted)
            {
                batch.Add(pending);
            }
        }
    }

    private async Task RunBatchAsync(List<Pending> collected)
    {
        try
        {
            // Callers may have cancelled while the batch was being collected.
            collected.RemoveAll(static p => p.IsCompleted);
            if (collected.Count > 0)
            {
                await RunLiveBatchAsync(collected).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Only a bug gets here; callers must still hear about it.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            BatcherLog.BatchFailedUnexpectedly(logger, exception, options.Name, collected.Count);
            foreach (var pending in collected)
            {
                pending.SetException(exception);
            }
        }
        finally
        {
            batchSlots.Release();
        }
    }

    private async Task RunLiveBatchAsync(List<Pending> batch)
    {
        Interlocked.Increment(ref batchesRun);
        Interlocked.Add(ref requestsBatched, batch.Count);
        RaiseLargestBatch(batch.Count);
        var started = Stopwatch.GetTimestamp();

        using var allCancelled = new CancellationTokenSource();
        var registrations = WatchAllCancelled(batch, allCancelled);
        try
        {
            IReadOnlyList<BatchItemResult<TResult>> results;
            try
            {
                results = await InvokeAsync(batch, allCancelled.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Any batch function failure is handed to the callers.
            catch (Exception) when (allCancelled.IsCancellationRequested)
            {
                // Every caller already has its cancelled task; nobody is left to retry for.
                BatcherLog.BatchAbandoned(logger, options.Name, batch.Count);
                return;
            }
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref batchesFailed);
                if (batch.Count == 1)
                {
                    batch[0].SetException(exception);
                }
                else
                {
                    BatcherLog.RetryingAlone(logger, exception, options.Name, batch.Count);
                    await RetryAloneAsync(batch).ConfigureAwait(false);
                }

                return;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].SetOutcome(results[i]);
            }

            BatcherLog.BatchCompleted(
                logger, options.Name, batch.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds, queue.Reader.Count);
        }
        finally
        {
            // Before allCancelled is disposed, so no callback can touch a disposed source.
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    private async Task RetryAloneAsync(List<Pending> batch)
    {
        var single = new List<Pending>(1) { default! };
        foreach (var pending in batch)
        {
            if (pending.IsCompleted)
            {
                continue;
            }

            single[0] = pending;
            try
            {
                // Alone, "every caller cancelled" is just this caller's token.
                var results = await InvokeAsync(single, pending.CancellationToken).ConfigureAwait(false);
                pending.SetOutcome(results[0]);
            }
#pragma warning disable CA1031 // The failure belongs to this caller alone.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                // A no-op when the caller cancelled: its task is already cancelled.
                pending.SetException(exception);
            }
        }
    }

    private async ValueTask<IReadOnlyList<BatchItemResult<TResult>>> InvokeAsync(List<Pending> batch, CancellationToken cancellationToken)
    {
        var requests = new TRequest[batch.Count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = batch[i].Request;
        }

        var results = await batchFunction(requests, cancellationToken).ConfigureAwait(false);
        if (results is null || results.Count != requests.Length)
        {
            throw new InvalidOperationException(
                $"The batch function of batcher '{options.Name}' returned {results?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"} results for {requests.Length} requests; it must return exactly one result per request, in order.");
        }

        return results;
    }

    private static CancellationTokenRegistration[] WatchAllCancelled(List<Pending> batch, CancellationTokenSource allCancelled)
    {
        var live = batch.Count;
        var registrations = new CancellationTokenRegistration[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var token = batch[i].CancellationToken;
            if (!token.CanBeCanceled)
            {
                // This caller can never cancel, so the batch is always wanted.
                continue;
            }

            registrations[i] = token.UnsafeRegister(
                _ =>
                {
                    if (Interlocked.Decrement(ref live) == 0)
                    {
                        allCancelled.Cancel();
                    }
                },
                null);
        }

        return registrations;
    }

    private void RaiseLargestBatch(int size)
    {
        var current = Volatile.Read(ref largestBatch);
        while (size > current)
        {
            var seen = Interlocked.CompareExchange(ref largestBatch, size, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>One caller's request and the task it waits on.</summary>
    private sealed class Pending(RequestBatcher<TRequest, TResult> owner, TRequest request, CancellationToken cancellationToken)
    {
        private readonly TaskCompletionSource<TResult> completion =
            new(TaskCreationOptions.RunContinuationsAsynchronously); // keep callers' code off the batch loop
        private CancellationTokenRegistration registration;

        public TRequest Request { get; } = request;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Task<TResult> Task => completion.Task;

        public bool IsCompleted => completion.Task.IsCompleted;

        public void WatchCancellation()
        {
            if (CancellationToken.CanBeCanceled)
            {
                registration = CancellationToken.UnsafeRegister(static state => ((Pending)state!).OnCancelled(), this);
            }
        }

        public void StopWatchingCancellation() => registration.Dispose();

        public void SetOutcome(BatchItemResult<TResult>? outcome)
        {
            if (outcome is null)
            {
                SetException(new InvalidOperationException(
                    $"The batch function of batcher '{owner.options.Name}' returned a null result; it must return BatchItemResult.Success or Failure for every request."));
            }
            else if (outcome.Error is { } error)
            {
                SetException(error);
            }
            else
            {
                if (completion.TrySetResult(outcome.Value))
                {
                    registration.Unregister();
                }
            }
        }

        public void SetException(Exception exception)
        {
            if (completion.TrySetException(exception))
            {
                registration.Unregister();
            }
        }

        private void OnCancelled()
        {
            if (completion.TrySetCanceled(CancellationToken))
            {
                Interlocked.Increment(ref owner.requestsCancelled);
            }
        }
    }
}

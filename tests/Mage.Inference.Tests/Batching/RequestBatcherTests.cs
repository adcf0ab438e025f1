using Mage.Inference.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mage.Inference.Tests.Batching;

/// <summary>
/// Behaviour of <see cref="RequestBatcher{TRequest, TResult}"/>. Ordering is controlled with a
/// gated batch function (the first batch is held while the next requests queue up), not with
/// sleeps; every wait is bounded by <see cref="RecordingBatchFunction.Timeout"/>.
/// </summary>
public sealed class RequestBatcherTests
{
    private static readonly TimeSpan Timeout = RecordingBatchFunction.Timeout;

    [Fact]
    public async Task ConcurrentCallers_EachGetOwnResult_InBoundedMergedBatches()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 8 });

        // Hold the first batch so the other 99 callers pile up behind it, as they would while
        // a model call runs.
        var first = batcher.SubmitAsync(0);
        await batchFunction.WaitForCallsAsync(1);
        var callers = new Task<int>[100];
        callers[0] = first;
        Parallel.For(1, callers.Length, i => callers[i] = batcher.SubmitAsync(i));
        batchFunction.Release();

        var results = await Task.WhenAll(callers).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * 2), results);
        Assert.All(batchFunction.Batches, batch => Assert.InRange(batch.Length, 1, 8));
        Assert.Equal(Enumerable.Range(0, 100), batchFunction.Batches.SelectMany(b => b).Order());
        Assert.Equal(1, batchFunction.MaxConcurrentCalls);

        var statistics = batcher.GetStatistics();
        Assert.Equal(100, statistics.RequestsSubmitted);
        Assert.Equal(100, statistics.RequestsBatched);
        Assert.Equal(batchFunction.Batches.Count, statistics.BatchesRun);
        Assert.Equal(8, statistics.LargestBatch);
        // 99 queued requests in batches of at most 8 need at least 13 calls, plus the first.
        Assert.True(statistics.MeanBatchSize > 4, $"Mean batch size was {statistics.MeanBatchSize}.");
    }

    [Fact]
    public async Task ItemFailure_FailsOnlyThatCaller_WithTheBatchFunctionsException()
    {
        var bad = new InvalidRequestException("Request 13 is bad.");
        var batchFunction = new RecordingBatchFunction(gated: true)
        {
            Item = x => x == 13 ? BatchItemResult<int>.Failure(bad) : BatchItemResult<int>.Success(x * 2),
        };
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 3, MaxWait = TimeSpan.FromSeconds(1) });

        var tasks = new[] { batcher.SubmitAsync(1), batcher.SubmitAsync(13), batcher.SubmitAsync(3) };
        batchFunction.Release();

        Assert.Same(bad, await Assert.ThrowsAsync<InvalidRequestException>(() => tasks[1].WaitAsync(Timeout)));
        Assert.Equal(2, await tasks[0].WaitAsync(Timeout));
        Assert.Equal(6, await tasks[2].WaitAsync(Timeout));
        Assert.Equal([[1, 13, 3]], batchFunction.Batches);
    }

    [Fact]
    public async Task BatchFunctionThrows_PoisonFailsAlone_NeighboursSucceedWhenRetriedAlone()
    {
        const int Poison = 66;
        var batchFunction = new RecordingBatchFunction(gated: true)
        {
            ThrowFor = requests => requests.Contains(Poison) ? new InvalidOperationException("Model call failed.") : null,
        };
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 3, MaxWait = TimeSpan.FromSeconds(1) });

        var tasks = new[] { batcher.SubmitAsync(1), batcher.SubmitAsync(Poison), batcher.SubmitAsync(3) };
        batchFunction.Release();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => tasks[1].WaitAsync(Timeout));
        Assert.Equal("Model call failed.", exception.Message);
        Assert.Equal(2, await tasks[0].WaitAsync(Timeout));
        Assert.Equal(6, await tasks[2].WaitAsync(Timeout));
        Assert.Equal([[1, Poison, 3], [1], [Poison], [3]], batchFunction.Batches);
        Assert.Equal(1, batcher.GetStatistics().BatchesFailed);
    }

    [Fact]
    public async Task BatchFunctionThrows_ForALoneRequest_FailsItWithoutRetry()
    {
        var failure = new InvalidOperationException("Model call failed.");
        var batchFunction = new RecordingBatchFunction { ThrowFor = _ => failure };
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxWait = TimeSpan.Zero });

        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SubmitAsync(5).WaitAsync(Timeout)));
        Assert.Equal([[5]], batchFunction.Batches);
    }

    [Fact]
    public async Task BatchFunctionReturnsWrongCount_CallerGetsAClearException()
    {
        await using var batcher = new RequestBatcher<int, int>(
            new BatcherOptions { MaxWait = TimeSpan.Zero },
            NullLogger.Instance,
            (_, _) => ValueTask.FromResult<IReadOnlyList<BatchItemResult<int>>>([]));

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SubmitAsync(5).WaitAsync(Timeout));

        Assert.Contains("returned 0 results for 1 requests", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelledBeforeBatchStarts_TaskCancelsAtOnce_AndBatchFunctionNeverSeesIt()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 4 });
        var first = batcher.SubmitAsync(1);
        await batchFunction.WaitForCallsAsync(1);

        using var cancellation = new CancellationTokenSource();
        var cancelled = batcher.SubmitAsync(7, cancellation.Token);
        var other = batcher.SubmitAsync(9);
        cancellation.Cancel();

        // Still gated: the cancellation cannot have come from a batch finishing.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        Assert.True(cancelled.IsCanceled);

        batchFunction.Release();
        Assert.Equal(2, await first.WaitAsync(Timeout));
        Assert.Equal(18, await other.WaitAsync(Timeout));
        Assert.DoesNotContain(7, batchFunction.Batches.SelectMany(b => b));
        Assert.Equal(1, batcher.GetStatistics().RequestsCancelled);
    }

    [Fact]
    public async Task AlreadyCancelledToken_ReturnsCancelledTask()
    {
        var batchFunction = new RecordingBatchFunction();
        await using var batcher = Create(batchFunction, new BatcherOptions());

        var task = batcher.SubmitAsync(1, new CancellationToken(canceled: true));

        Assert.True(task.IsCanceled);
    }

    [Fact]
    public async Task CancelledDuringBatch_CallerCancels_BatchGoesOnForOthers()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 2, MaxWait = TimeSpan.FromSeconds(1) });

        using var cancellation = new CancellationTokenSource();
        var kept = batcher.SubmitAsync(1);
        var cancelled = batcher.SubmitAsync(2, cancellation.Token);
        await batchFunction.WaitForCallsAsync(1);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        Assert.False(kept.IsCompleted);
        Assert.False(batchFunction.Tokens[0].IsCancellationRequested);

        batchFunction.Release();
        Assert.Equal(2, await kept.WaitAsync(Timeout));
        Assert.Equal([[1, 2]], batchFunction.Batches);
    }

    [Fact]
    public async Task EveryCallerCancelledDuringBatch_BatchFunctionTokenIsCancelled()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 2, MaxWait = TimeSpan.FromSeconds(1) });

        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var tasks = new[] { batcher.SubmitAsync(1, first.Token), batcher.SubmitAsync(2, second.Token) };
        await batchFunction.WaitForCallsAsync(1);
        first.Cancel();
        Assert.False(batchFunction.Tokens[0].IsCancellationRequested);
        second.Cancel();

        Assert.True(batchFunction.Tokens[0].IsCancellationRequested);
        foreach (var task in tasks)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(Timeout));
        }

        // The abandoned batch must not stop the batcher. Two requests fill a batch, so this
        // does not wait out MaxWait.
        batchFunction.Release();
        Assert.Equal(new[] { 6, 8 }, await Task.WhenAll(batcher.SubmitAsync(3), batcher.SubmitAsync(4)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task MaxWait_LoneRequestCompletes_WithoutAFullBatch()
    {
        var batchFunction = new RecordingBatchFunction();
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 32, MaxWait = TimeSpan.FromMilliseconds(20) });

        Assert.Equal(42, await batcher.SubmitAsync(21).WaitAsync(Timeout));
        Assert.Equal([[21]], batchFunction.Batches);
    }

    [Fact]
    public async Task QueueFull_FailsFast_WithBatchQueueFullException()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { Name = "embed", MaxBatchSize = 1, MaxQueueLength = 2 });
        var running = batcher.SubmitAsync(0);
        await batchFunction.WaitForCallsAsync(1);
        var queued = new[] { batcher.SubmitAsync(1), batcher.SubmitAsync(2) };

        var refused = batcher.SubmitAsync(3);

        Assert.True(refused.IsFaulted, "A full queue must fail the request at once, not wait.");
        var exception = await Assert.ThrowsAsync<BatchQueueFullException>(() => refused);
        Assert.Equal("embed", exception.BatcherName);
        Assert.Equal(2, exception.MaxQueueLength);
        Assert.Contains("already has 2 requests queued", exception.Message, StringComparison.Ordinal);
        Assert.Equal(1, batcher.GetStatistics().RequestsRejected);

        batchFunction.Release();
        Assert.Equal(new[] { 0, 2, 4 }, await Task.WhenAll([running, .. queued]).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Dispose_DrainsQueuedRequests_ThenSubmitThrowsObjectDisposed()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 2 });
        var tasks = new List<Task<int>> { batcher.SubmitAsync(0) };
        await batchFunction.WaitForCallsAsync(1);
        for (var i = 1; i < 6; i++)
        {
            tasks.Add(batcher.SubmitAsync(i));
        }

        var disposal = batcher.DisposeAsync().AsTask();

        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.SubmitAsync(99); });
        Assert.False(disposal.IsCompleted, "Disposal must wait for the queued requests.");
        batchFunction.Release();
        await disposal.WaitAsync(Timeout);

        Assert.All(tasks, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal([0, 2, 4, 6, 8, 10], tasks.Select(t => t.Result));
        Assert.DoesNotContain(99, batchFunction.Batches.SelectMany(b => b));
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.SubmitAsync(100); });
        await batcher.DisposeAsync(); // a second disposal is harmless
    }

    [Fact]
    public async Task MaxConcurrentBatches_AllowsOverlappingCalls()
    {
        var batchFunction = new RecordingBatchFunction(gated: true);
        await using var batcher = Create(batchFunction, new BatcherOptions { MaxBatchSize = 1, MaxConcurrentBatches = 2 });

        var tasks = new[] { batcher.SubmitAsync(1), batcher.SubmitAsync(2) };
        await batchFunction.WaitForCallsAsync(2);

        Assert.Equal(2, batchFunction.MaxConcurrentCalls);
        batchFunction.Release();
        Assert.Equal(new[] { 2, 4 }, await Task.WhenAll(tasks).WaitAsync(Timeout));
    }

    private static RequestBatcher<int, int> Create(RecordingBatchFunction batchFunction, BatcherOptions options) =>
        new(options, NullLogger.Instance, batchFunction.InvokeAsync);
}

using System.Collections.Concurrent;
using Mage.Inference.Batching;

namespace Mage.Inference.Tests.Batching;

/// <summary>
/// A batch function for tests: doubles each request, records every call, and can be held at a
/// gate so requests pile up in the queue deterministically instead of by timing.
/// </summary>
internal sealed class RecordingBatchFunction
{
    /// <summary>Generous bound on every wait, so a bug fails a test instead of hanging it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<(int[] Requests, CancellationToken Token)> calls = new();
    private readonly SemaphoreSlim entered = new(0);
    private readonly TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int running;
    private int maxRunning;

    public RecordingBatchFunction(bool gated = false)
    {
        if (!gated)
        {
            gate.SetResult();
        }
    }

    /// <summary>Per-request outcome; doubles the request unless a test says otherwise.</summary>
    public Func<int, BatchItemResult<int>> Item { get; init; } = static x => BatchItemResult<int>.Success(x * 2);

    /// <summary>When it returns an exception for a call's requests, the whole call throws it.</summary>
    public Func<IReadOnlyList<int>, Exception?> ThrowFor { get; init; } = static _ => null;

    public IReadOnlyList<int[]> Batches => calls.Select(c => c.Requests).ToArray();

    public IReadOnlyList<CancellationToken> Tokens => calls.Select(c => c.Token).ToArray();

    public int MaxConcurrentCalls => Volatile.Read(ref maxRunning);

    public void Release() => gate.TrySetResult();

    /// <summary>Waits until the batch function has been entered <paramref name="calls"/> more times.</summary>
    public async Task WaitForCallsAsync(int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            Assert.True(await entered.WaitAsync(Timeout), "The batch function was not called in time.");
        }
    }

    public async ValueTask<IReadOnlyList<BatchItemResult<int>>> InvokeAsync(IReadOnlyList<int> requests, CancellationToken cancellationToken)
    {
        var running = Interlocked.Increment(ref this.running);
        InterlockedMax(ref maxRunning, running);
        try
        {
            calls.Enqueue((requests.ToArray(), cancellationToken));
            entered.Release();
            await gate.Task.WaitAsync(Timeout, cancellationToken);
            if (ThrowFor(requests) is { } exception)
            {
                throw exception;
            }

            return requests.Select(Item).ToArray();
        }
        finally
        {
            Interlocked.Decrement(ref this.running);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

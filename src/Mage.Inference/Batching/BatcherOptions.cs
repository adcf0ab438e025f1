using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Mage.Inference.Batching;

/// <summary>
/// Settings of one <see cref="RequestBatcher{TRequest, TResult}"/>. Immutable once built; safe to
/// share between threads. The <see cref="RangeAttribute"/>s let hosts bind and validate it with
/// <c>ValidateDataAnnotations()</c>; the batcher calls <see cref="Validate"/> itself as well.
/// </summary>
public sealed record BatcherOptions
{
    public const int MinBatchSize = 1;
    public const int MaxBatchSizeLimit = 1024;
    public const int MaxQueueLengthLimit = 1_000_000;
    public const int MaxConcurrentBatchesLimit = 64;

    /// <summary>Longest <see cref="MaxWait"/> accepted: one second.</summary>
    public static readonly TimeSpan MaxWaitLimit = TimeSpan.FromSeconds(1);

    /// <summary>Most requests handed to the batch function in one call (1 to 1024; default 32).</summary>
    [Range(MinBatchSize, MaxBatchSizeLimit)]
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// How long a batch stays open for more requests after its first request is taken from the
    /// queue (0 to 1 s; default 5 ms). Zero sends whatever is already queued without waiting.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Most requests waiting for a batch (1 to 1,000,000; default 4096). Beyond it
    /// <see cref="RequestBatcher{TRequest, TResult}.SubmitAsync"/> fails at once with
    /// <see cref="BatchQueueFullException"/>: callers get backpressure instead of the service
    /// growing its memory without bound.
    /// </summary>
    [Range(1, MaxQueueLengthLimit)]
    public int MaxQueueLength { get; init; } = 4096;

    /// <summary>
    /// Most batch function calls running at once (1 to 64; default 1). One is right for an ONNX
    /// Runtime session: the session already spreads one call over the cores or the GPU, and
    /// overlapping calls only contend for them.
    /// </summary>
    [Range(1, MaxConcurrentBatchesLimit)]
    public int MaxConcurrentBatches { get; init; } = 1;

    /// <summary>Name used in log messages to tell batchers apart (non-empty; default "batcher").</summary>
    [Required]
    [MinLength(1)]
    public string Name { get; init; } = "batcher";

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/>
    /// naming the first setting that is out of range and its valid range.</summary>
    public void Validate()
    {
        CheckRange(MaxBatchSize, MinBatchSize, MaxBatchSizeLimit, nameof(MaxBatchSize));
        if (MaxWait < TimeSpan.Zero || MaxWait > MaxWaitLimit)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxWait),
                MaxWait,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{nameof(MaxWait)} is {MaxWait.TotalMilliseconds} ms; it must be between 0 ms and {MaxWaitLimit.TotalMilliseconds} ms."));
        }

        CheckRange(MaxQueueLength, 1, MaxQueueLengthLimit, nameof(MaxQueueLength));
        CheckRange(MaxConcurrentBatches, 1, MaxConcurrentBatchesLimit, nameof(MaxConcurrentBatches));
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException(
                $"{nameof(Name)} is '{Name}'; it must be a non-empty name to tell this batcher apart in logs.",
                nameof(Name));
        }
    }

    private static void CheckRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(
                name,
                value,
                string.Create(CultureInfo.InvariantCulture, $"{name} is {value}; it must be between {min} and {max}."));
        }
    }
}

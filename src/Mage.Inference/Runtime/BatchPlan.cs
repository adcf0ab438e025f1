using System.Globalization;

namespace Mage.Inference.Runtime;

/// <summary>
/// How the rows of one call are cut into graph runs: at their natural size, or padded up to one of
/// a few bucket sizes so that a graph only ever sees those batch shapes (cuDNN searches its
/// algorithms once per shape, and warm-up can run every shape at start-up). A fixed transformer
/// batch is the one-bucket case.
/// </summary>
/// <remarks>Immutable and thread-safe. The one owner of the bucket setting's syntax and limits.</remarks>
internal sealed class BatchPlan
{
    /// <summary>The buckets of <c>auto</c> on CUDA.</summary>
    public static readonly IReadOnlyList<int> DefaultCudaBuckets = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>Most bucket sizes one setting may list.</summary>
    public const int MaxBuckets = 16;

    /// <summary>Largest bucket size (the transformer's largest fixed batch).</summary>
    public const int MaxBucketSize = 1024;

    private readonly int[] sizes;

    private BatchPlan(int[] sizes) => this.sizes = sizes;

    /// <summary>Every call runs at its own size.</summary>
    public static BatchPlan Natural { get; } = new([]);

    /// <summary>Every run has exactly <paramref name="rows"/> rows, the last one padded.</summary>
    public static BatchPlan Fixed(int rows) => new([rows]);

    /// <summary>The bucket sizes, ascending; empty for natural batches.</summary>
    public IReadOnlyList<int> Sizes => sizes;

    /// <summary>
    /// The plan of a bucket setting: <c>auto</c> (<see cref="DefaultCudaBuckets"/> on CUDA,
    /// natural on the CPU, where kernels do not depend on the shape), <c>none</c>, or a comma list
    /// of sizes such as <c>8,64</c>.
    /// </summary>
    /// <exception cref="InvalidRequestException">The setting is none of these.</exception>
    public static BatchPlan Parse(string? setting, bool cuda)
    {
        var text = (setting ?? "").Trim();
        if (text.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return cuda ? new([.. DefaultCudaBuckets]) : Natural;
        }

        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return Natural;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new SortedSet<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is < 1 or > MaxBucketSize)
            {
                throw new InvalidRequestException(
                    $"Batch buckets '{setting}': '{part}' is not a size from 1 to {MaxBucketSize}; use auto, none or a comma list such as 8,64.");
            }

            parsed.Add(size);
        }

        if (parts.Length > MaxBuckets)
        {
            throw new InvalidRequestException($"Batch buckets '{setting}' lists {parts.Length} sizes; at most {MaxBuckets}.");
        }

        return new([.. parsed]);
    }

    /// <summary>
    /// The graph runs of <paramref name="rows"/> rows, in order. With buckets, full runs of the
    /// largest bucket, then the remainder padded to the smallest bucket that holds it; without,
    /// runs of at most <paramref name="maxNatural"/> rows.
    /// </summary>
    public IEnumerable<BatchRun> Split(int rows, int maxNatural = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNatural);
        var largest = sizes.Length > 0 ? sizes[^1] : maxNatural;
        for (var start = 0; start < rows; start += largest)
        {
            var count = Math.Min(largest, rows - start);
            yield return new BatchRun(start, count, sizes.Length > 0 ? sizes.First(s => s >= count) : count);
        }
    }

    /// <inheritdoc />
    public override string ToString() => sizes.Length == 0 ? "natural" : string.Join(",", sizes);
}

namespace Mage.Inference.Engine;

/// <summary>
/// Reports steps of one part of a longer job as steps of the whole, synchronously and in order
/// (<see cref="Progress{T}"/> would post each report to the thread pool and could reorder them).
/// </summary>
internal sealed class OffsetProgress(IProgress<int> inner, int offset) : IProgress<int>
{
    /// <summary>The part's progress, or null when nobody listens.</summary>
    public static IProgress<int>? Create(IProgress<int>? inner, int offset) => inner is null ? null : new OffsetProgress(inner, offset);

    public void Report(int value) => inner.Report(offset + value);
}

namespace Mage.Inference.Engine;

/// <summary>
/// Reports the steps of one decode (a chunk of a generation, a window of an outpainting) as
/// <see cref="StepProgress"/> of the whole call, synchronously and in order
/// (<see cref="Progress{T}"/> would post each report to the thread pool and could reorder them).
/// </summary>
/// <param name="inner">The caller's progress.</param>
/// <param name="offset">Steps of the whole call done before this decode.</param>
/// <param name="total">Steps of the whole call.</param>
internal sealed class OffsetProgress(IProgress<StepProgress> inner, int offset, int total) : IProgress<int>
{
    /// <summary>The decode's progress, or null when nobody listens.</summary>
    public static IProgress<int>? Create(IProgress<StepProgress>? inner, int offset, int total) =>
        inner is null ? null : new OffsetProgress(inner, offset, total);

    public void Report(int value) => inner.Report(new StepProgress(offset + value, total));
}

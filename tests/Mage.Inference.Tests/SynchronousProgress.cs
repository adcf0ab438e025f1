namespace Mage.Inference.Tests;

/// <summary>Reports on the caller's thread, in order (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
internal sealed class SynchronousProgress(Action<int> report) : IProgress<int>
{
    public void Report(int value) => report(value);
}

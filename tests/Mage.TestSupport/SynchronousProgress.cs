namespace Mage.TestSupport;

/// <summary>
/// Reports on the caller's thread, in order (unlike <see cref="Progress{T}"/>, which posts to the
/// thread pool), so a test sees every report before the awaited call returns. As thread-safe as
/// <c>report</c> is.
/// </summary>
/// <typeparam name="T">The progress value.</typeparam>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

namespace Mage.Cli.Commands;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread. <see cref="Progress{T}"/>
/// posts to the thread pool, so its reports can arrive after the work has finished.
/// </summary>
internal sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

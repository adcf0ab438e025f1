using Microsoft.Extensions.Logging;

namespace Mage.Cli.Console;

/// <summary>
/// Forwards the library's warnings and errors (a CUDA fallback, a batch failure) to stderr as
/// one line each; information-level logs are for services, not for a terminal.
/// </summary>
internal sealed class StderrLogger(TextWriter stderr, Func<string, bool>? suppress = null) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var message = formatter(state, exception);
        if (suppress?.Invoke(message) == true)
        {
            return;
        }

        var level = logLevel >= LogLevel.Error ? "error" : "warning";
        stderr.WriteLine(exception is null ? $"mage: {level}: {message}" : $"mage: {level}: {message} ({exception.Message})");
    }
}

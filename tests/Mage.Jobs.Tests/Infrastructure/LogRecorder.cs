using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>
/// Keeps every formatted log message, for tests that hold an answer to what the service logged
/// about it. Register it as an <see cref="ILoggerProvider"/>, or take a logger with <see cref="For{T}"/>.
/// Thread-safe.
/// </summary>
public sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<string> messages = new();

    public IReadOnlyList<string> Messages => [.. messages];

    public ILogger CreateLogger(string categoryName) => new Recording(messages);

    public ILogger<T> For<T>() => new Recording<T>(messages);

    public void Dispose()
    {
    }

    private class Recording(ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception));
    }

    private sealed class Recording<T>(ConcurrentQueue<string> messages) : Recording(messages), ILogger<T>;
}

using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Console;

/// <summary>
/// Log lines for long-running commands (<c>mage worker</c>): "HH:mm:ss level category: message",
/// one per entry, on the given writer (stderr). The writer must be synchronized.
/// </summary>
internal sealed class LineLoggerProvider(TextWriter writer) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(writer, ShortName(categoryName));

    public void Dispose()
    {
    }

    private static string ShortName(string category)
    {
        var dot = category.LastIndexOf('.');
        return dot < 0 ? category : category[(dot + 1)..];
    }

    private sealed class LineLogger(TextWriter writer, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var level = logLevel switch
            {
                LogLevel.Trace or LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warning",
                _ => "error",
            };
            var time = DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
            var message = formatter(state, exception);
            writer.WriteLine(exception is null
                ? $"{time} {level} {category}: {message}"
                : $"{time} {level} {category}: {message} ({exception.GetType().Name}: {exception.Message})");
        }
    }
}

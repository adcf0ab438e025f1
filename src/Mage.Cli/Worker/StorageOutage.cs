using System.Diagnostics;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Worker;

/// <summary>
/// What the worker knows of storage being down: the first failure of an outage logs one warning,
/// later ones log at debug, and the first answer after it logs how long it lasted. Also the wait
/// between tries (<see cref="Delay"/>). Thread-safe: the poll loop and the message tasks of one
/// <see cref="QueueWorker"/> report to the same instance.
/// </summary>
internal sealed partial class StorageOutage(ILogger logger)
{
    /// <summary>The wait after the first failure of a run of failures.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries, so a worker notices storage is back within about this long.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private long since; // Stopwatch timestamp of the outage's first failure; 0 while storage answers

    /// <summary>Records a call that storage did not serve.</summary>
    public void Failed(Exception exception)
    {
        bool first;
        lock (gate)
        {
            first = since == 0;
            if (first)
            {
                since = Stopwatch.GetTimestamp();
            }
        }

        var reason = StorageFailures.Describe(exception);
        if (first)
        {
            LogDown(logger, reason, MaxDelay.TotalSeconds);
        }
        else
        {
            LogStillDown(logger, reason);
        }
    }

    /// <summary>Records a call that storage served; ends an outage if one was going on.</summary>
    public void Answered()
    {
        long started;
        lock (gate)
        {
            started = since;
            since = 0;
        }

        if (started != 0)
        {
            LogBack(logger, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>
    /// The wait before the next try after <paramref name="failures"/> failures in a row:
    /// <see cref="FirstDelay"/> doubling up to <see cref="MaxDelay"/>, each shortened by up to a
    /// quarter at random so that workers which lost storage together do not retry in step.
    /// </summary>
    public static TimeSpan Delay(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var full = Math.Min(MaxDelay.TotalSeconds, FirstDelay.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromSeconds(full * (1 - (0.25 * Random.Shared.NextDouble())));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage is not answering ({Reason}); the worker keeps trying, waiting up to {MaxDelaySeconds:F0} s between tries")]
    private static partial void LogDown(ILogger logger, string reason, double maxDelaySeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Storage still not answering: {Reason}")]
    private static partial void LogStillDown(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage answers again after {Seconds:F0} s; resuming")]
    private static partial void LogBack(ILogger logger, double seconds);
}

using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// Counts every storage request the services send (each SDK retry too), by what it touched, its
/// method and its answer: <c>status PUT 412</c>, <c>shardlist PUT 201</c>, <c>queue POST 201</c>.
/// Added to the clients as a per-retry pipeline policy; thread-safe.
/// </summary>
internal sealed class RequestTally : HttpPipelineSynchronousPolicy
{
    /// <summary>Requests kept in the timeline after each <see cref="Reset"/>: enough for the steps before a job's first shard.</summary>
    private const int TimelineLength = 400;

    private const string SentAt = "mage-bench-sent";

    private ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal);
    private ConcurrentQueue<TimedRequest> timeline = new();
    private System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>The counts since the last <see cref="Reset"/>, by <c>target method status</c>.</summary>
    public SortedDictionary<string, long> Snapshot() => new(counts, StringComparer.Ordinal);

    public void Reset()
    {
        counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        timeline = new ConcurrentQueue<TimedRequest>();
        clock = System.Diagnostics.Stopwatch.StartNew();
    }

    /// <summary>The first requests since the last <see cref="Reset"/>, in the order they were answered: when each was sent and how long it took.</summary>
    public List<TimedRequest> Timeline() => [.. timeline.OrderBy(r => r.SentMs)];

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.SetProperty(SentAt, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>The requests whose key starts with <paramref name="prefix"/> (e.g. <c>"status PUT"</c>).</summary>
    public static long Sum(IReadOnlyDictionary<string, long> snapshot, string prefix) =>
        snapshot.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(kv => kv.Value);

    public override void OnReceivedResponse(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var key = $"{Target(message.Request.Uri)} {message.Request.Method} {message.Response.Status}";
        counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (timeline.Count < TimelineLength && message.TryGetProperty(SentAt, out var sent) && sent is double sentMs)
        {
            timeline.Enqueue(new TimedRequest(Math.Round(sentMs, 1), Math.Round(clock.Elapsed.TotalMilliseconds - sentMs, 1), key));
        }
    }

    /// <summary>What a request touched, from its path and query (the names of docs/operations.md, "Results layout").</summary>
    private static string Target(RequestUriBuilder uri)
    {
        var path = uri.Path;
        var query = uri.Query ?? "";
        if (query.Contains("comp=list", StringComparison.Ordinal))
        {
            return "list";
        }

        if (path.EndsWith("/messages", StringComparison.Ordinal) || path.Contains("/messages/", StringComparison.Ordinal))
        {
            return path.Contains("-shards/", StringComparison.Ordinal) ? "shardqueue" : path.Contains("-jobs/", StringComparison.Ordinal) ? "jobqueue" : "queue";
        }

        return path switch
        {
            _ when path.EndsWith("/status.json", StringComparison.Ordinal) => "status",
            _ when path.Contains("/stripes/", StringComparison.Ordinal) => "stripe",
            _ when path.Contains("/claims/", StringComparison.Ordinal) || path.EndsWith("/claim", StringComparison.Ordinal) => "claim",
            _ when path.Contains("/shards/", StringComparison.Ordinal) => "shardlist",
            _ when path.Contains("/out/part-", StringComparison.Ordinal) => "part",
            _ when path.Contains("/listing/", StringComparison.Ordinal) => "listing",
            _ when path.EndsWith("manifest.json", StringComparison.Ordinal) || path.EndsWith(".event.json", StringComparison.Ordinal) => "manifest",
            _ => "other",
        };
    }
}

using System.Collections.Concurrent;

namespace Mage.Cli.Worker;

/// <summary>What one <see cref="QueueWorker"/> run did.</summary>
internal sealed class WorkerTally
{
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    public int this[string key] => counts.GetValueOrDefault(key);

    public void Add(string key) => counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    public override string ToString() => string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));
}

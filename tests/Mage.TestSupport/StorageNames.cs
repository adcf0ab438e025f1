namespace Mage.TestSupport;

/// <summary>
/// The <c>Mage__Storage__*</c> environment of a <c>mage</c> process (a CLI test's worker, the chaos
/// suite's workers) that uses its own containers and queues, all named <c>{prefix}-{role}</c>, so it
/// never touches what other tests put in a shared Azurite. Thread-safe.
/// </summary>
public static class StorageNames
{
    public static Dictionary<string, string> Environment(string prefix) => new()
    {
        ["Mage__Storage__UploadsContainer"] = $"{prefix}-uploads",
        ["Mage__Storage__SourceContainers"] = $"{prefix}-uploads", // the default, said outright: a test process may set another for its in-process runs
        ["Mage__Storage__ResultsContainer"] = $"{prefix}-results",
        ["Mage__Storage__JobsContainer"] = $"{prefix}-jobs",
        ["Mage__Storage__JobsQueue"] = $"{prefix}-jobs",
        ["Mage__Storage__ShardsQueue"] = $"{prefix}-shards",
        ["Mage__Storage__EditsQueue"] = $"{prefix}-edits",
        ["Mage__Storage__GenerateQueue"] = $"{prefix}-generate",
        ["Mage__Storage__EventsQueue"] = $"{prefix}-events",
    };
}

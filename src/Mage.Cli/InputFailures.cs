using System.Collections.Concurrent;

namespace Mage.Cli;

/// <summary>
/// The inputs a command could not use, with why. Commands carry on with the other inputs and
/// report these at the end. Thread-safe.
/// </summary>
internal sealed class InputFailures
{
    private readonly ConcurrentBag<(int Order, string Name, string Reason)> failures = [];

    public int Count => failures.Count;

    /// <param name="order">Position of the input, so the report follows the command line.</param>
    /// <param name="name">The file (or row) as the user knows it.</param>
    /// <param name="reason">Why it failed.</param>
    public void Add(int order, string name, string reason) => failures.Add((order, name, reason));

    /// <summary>Names of the failed inputs in input order.</summary>
    public IReadOnlyList<string> Names => [.. failures.OrderBy(f => f.Order).Select(f => f.Name)];

    /// <summary>Writes the failures to stderr, one line each, if there are any.</summary>
    /// <param name="context">Where to write.</param>
    /// <param name="total">How many inputs there were, for the headline.</param>
    /// <param name="noun">What an input is ("input", "row").</param>
    public void Report(CliContext context, int total, string noun = "input")
    {
        if (failures.IsEmpty)
        {
            return;
        }

        context.WriteError($"{failures.Count} of {total} {noun}{(total == 1 ? "" : "s")} failed:");
        foreach (var (_, name, reason) in failures.OrderBy(f => f.Order))
        {
            context.Error.WriteLine($"  {name}: {reason}");
        }
    }
}

namespace Mage.Inference.Engine;

/// <summary>
/// Passes each report of one shared decode to every request decoded in it, synchronously and in
/// order.
/// </summary>
internal sealed class FanOutProgress(IProgress<int>[] listeners) : IProgress<int>
{
    /// <summary>One progress for the listeners that are there, or null when none is.</summary>
    public static IProgress<int>? Create(IEnumerable<IProgress<int>?> listeners)
    {
        var present = listeners.OfType<IProgress<int>>().ToArray();
        return present.Length == 0 ? null : new FanOutProgress(present);
    }

    public void Report(int value)
    {
        foreach (var listener in listeners)
        {
            listener.Report(value);
        }
    }
}

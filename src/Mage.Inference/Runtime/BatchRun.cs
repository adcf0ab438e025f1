namespace Mage.Inference.Runtime;

/// <summary>One graph run of a <see cref="BatchPlan"/>: rows <paramref name="Start"/> to <paramref name="Start"/> + <paramref name="Rows"/> of the call, run as a batch of <paramref name="Size"/> (padded when larger).</summary>
internal readonly record struct BatchRun(int Start, int Rows, int Size)
{
    /// <summary>Whether the run needs padding rows.</summary>
    public bool Padded => Size > Rows;
}

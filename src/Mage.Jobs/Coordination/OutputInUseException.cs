namespace Mage.Jobs.Coordination;

/// <summary>
/// A unit of work found a blob at a path it writes, or in its folder, that it did not write: the
/// service never overwrites one, so the work is refused (<see cref="Vocabulary.ErrorReason.OutputInUse"/>).
/// </summary>
public sealed class OutputInUseException(string message) : Exception(message)
{
    public OutputInUseException()
        : this("The output already holds a blob this work did not write.")
    {
    }

    public OutputInUseException(string message, Exception innerException)
        : this(message) => _ = innerException;
}

namespace Mage.Inference;

/// <summary>
/// Base of every failure Mage reports on purpose. Each failure family has its own subtype whose
/// message names the offending value and what would have been valid.
/// </summary>
public abstract class MageException : Exception
{
    protected MageException(string message)
        : base(message)
    {
    }

    protected MageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

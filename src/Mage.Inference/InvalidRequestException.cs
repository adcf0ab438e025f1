namespace Mage.Inference;

/// <summary>A request parameter is outside what the model or the service accepts.</summary>
public sealed class InvalidRequestException : MageException
{
    public InvalidRequestException(string message)
        : base(message)
    {
    }

    public InvalidRequestException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace Mage.Inference.Numpy;

/// <summary>An NPY or NPZ input is malformed or uses a feature Mage does not read (big-endian,
/// Fortran order, an unsupported dtype). The message names the offending value.</summary>
public sealed class NpyFormatException : MageException
{
    public NpyFormatException(string message)
        : base(message)
    {
    }

    public NpyFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

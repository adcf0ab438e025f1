namespace Mage.Inference.Packages;

/// <summary>A model package that failed validation: unreadable manifest, wrong constants, missing or altered files.</summary>
public sealed class ModelPackageException : MageException
{
    public ModelPackageException(string message)
        : base(message)
    {
    }

    public ModelPackageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace Mage.Inference.Imaging;

/// <summary>
/// An untrusted input was rejected by <see cref="ImageLoader"/> or <see cref="PixelMask"/>. The
/// message names the offending value and the limit or the formats that would have been valid;
/// <see cref="Reason"/> lets callers map the failure to a status code without parsing it.
/// </summary>
public sealed class ImageDecodeException : MageException
{
    public ImageDecodeException(ImageDecodeFailure reason, string message)
        : this(reason, message, null)
    {
    }

    public ImageDecodeException(ImageDecodeFailure reason, string message, Exception? innerException)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>The failure family.</summary>
    public ImageDecodeFailure Reason { get; }
}

namespace Mage.Inference.Imaging;

/// <summary>Why an input could not be turned into an image.</summary>
public enum ImageDecodeFailure
{
    /// <summary>The input has no bytes.</summary>
    Empty,

    /// <summary>The bytes are not in any image format Mage recognises.</summary>
    NotAnImage,

    /// <summary>A recognised image format that Mage does not accept (TGA, TIFF, PBM, animated WebP).</summary>
    Unsupported,

    /// <summary>The input breaks one of the <see cref="ImageLimits"/>.</summary>
    TooLarge,

    /// <summary>The input claims to be a supported format but its contents are damaged.</summary>
    Corrupt,
}

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

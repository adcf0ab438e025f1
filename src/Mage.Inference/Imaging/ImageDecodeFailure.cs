namespace Mage.Inference.Imaging;

/// <summary>Why an input could not be turned into an image. Stored records name it by its Mage.Jobs error reason.</summary>
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

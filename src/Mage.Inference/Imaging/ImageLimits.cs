namespace Mage.Inference.Imaging;

/// <summary>
/// Upper bounds an untrusted image must satisfy before Mage spends memory decoding it. Every
/// bound is checked on cheap header data (byte count, declared dimensions, frame count, a JPEG's
/// marker structure) so an image that breaks one is rejected without allocating its pixels.
/// </summary>
/// <remarks>Immutable and thread-safe; share one instance.</remarks>
public sealed record ImageLimits
{
    public const long DefaultMaxBytes = 32L * 1024 * 1024;
    public const long DefaultMaxPixels = 50_000_000;
    public const int DefaultMaxDimension = 16384;
    public const int DefaultMaxFrames = 256;

    /// <summary>The defaults: 32 MiB, 50 megapixels, 16384 pixels a side, 256 frames.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Largest encoded input in bytes. At most <see cref="Array.MaxLength"/> - 1,
    /// because the loader buffers the encoded bytes in one array.</summary>
    public long MaxBytes
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Array.MaxLength - 1L);
            field = value;
        }
    } = DefaultMaxBytes;

    /// <summary>Largest width * height, in pixels.</summary>
    public long MaxPixels
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = DefaultMaxPixels;

    /// <summary>Largest width and largest height, in pixels.</summary>
    public int MaxDimension
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = DefaultMaxDimension;

    /// <summary>Most frames an animated GIF or WebP may declare; only the first is decoded, but
    /// walking thousands of frames is still work an attacker should not get for free.</summary>
    public int MaxFrames
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = DefaultMaxFrames;

    /// <summary>Whether a JPEG whose data ends before its end-of-image marker (a cut-off upload
    /// or download) is decoded anyway; the decoder makes up what is missing (black rows, or a
    /// blurred picture for a progressive JPEG cut between scans). False by default, as in PIL
    /// (LOAD_TRUNCATED_IMAGES = False): such an image is refused as
    /// <see cref="ImageDecodeFailure.Corrupt"/> rather than embedded as if it were whole. A JPEG
    /// cut inside its headers fails to decode either way.</summary>
    public bool AllowTruncatedJpeg { get; init; }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Imaging;

/// <summary>
/// The one PNG encoder of the library and its callers (the CLI's files, the service's results):
/// 24-bit RGB, 8 bits a channel, ImageSharp's default compression.
/// </summary>
/// <remarks>Stateless and thread-safe; the shared encoder settings are never mutated.</remarks>
public static class PngEncoding
{
    private static readonly PngEncoder Encoder = new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
    };

    /// <summary>Encodes <paramref name="image"/> as a PNG file.</summary>
    /// <param name="image">The image; the caller keeps and disposes it.</param>
    /// <returns>The bytes of the PNG file.</returns>
    public static byte[] Encode(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        image.Save(stream, Encoder);
        return stream.ToArray();
    }
}

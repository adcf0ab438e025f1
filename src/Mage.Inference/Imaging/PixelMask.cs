using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Imaging;

/// <summary>
/// Reads an inpainting mask image: white (or any bright opaque pixel) marks pixels to edit,
/// black or transparent marks pixels to keep.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class PixelMask
{
    /// <summary>The composited luminance (0-255) at or above which a pixel is masked.</summary>
    public const int Threshold = 128;

    /// <summary>
    /// Decodes <paramref name="imageBytes"/> under <paramref name="limits"/> and returns one flag
    /// per pixel, row-major (index = y * width + x), true where the pixel is to be edited. A pixel
    /// is masked when its BT.601 luminance, composited over black (so transparency counts as
    /// black), is at least <see cref="Threshold"/>.
    /// </summary>
    /// <exception cref="ImageDecodeException">The bytes are not an acceptable image.</exception>
    /// <exception cref="InvalidRequestException">The mask is not <paramref name="width"/> x <paramref name="height"/>.</exception>
    public static bool[] Load(byte[] imageBytes, ImageLimits limits, int width, int height, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(imageBytes);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);

        using var mask = ImageLoader.LoadCore<Rgba32>(imageBytes, limits, sourceName ?? "mask");
        if (mask.Width != width || mask.Height != height)
        {
            throw new InvalidRequestException(
                $"Mask is {mask.Width}x{mask.Height} but the image it edits is {width}x{height}; they must be the same size.");
        }

        var result = new bool[width * height];
        mask.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < accessor.Height; y++)
            {
                var row = accessor.GetRowSpan(y);
                var flags = result.AsSpan(y * width, width);
                for (var x = 0; x < row.Length; x++)
                {
                    var p = row[x];

                    // Integer BT.601 weights (299, 587, 114 per mille), scaled by alpha / 255.
                    var luminance = (299 * p.R) + (587 * p.G) + (114 * p.B);
                    flags[x] = (long)luminance * p.A >= (long)Threshold * 1000 * 255;
                }
            }
        });
        return result;
    }
}

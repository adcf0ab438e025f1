using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Imaging;

/// <summary>
/// Converts between RGB images and the planar float tensors the MAGE graphs use: layout
/// [3, H, W] (channel, row, column), values pixel / 255 in [0, 1], no mean or std.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class PixelTensor
{
    /// <summary>Floats of one model-sized image: [3, 256, 256], the tokenizer's input and the detokenizer's output.</summary>
    internal const int FloatsPerImage = 3 * MageTokens.ImageSize * MageTokens.ImageSize;

    /// <summary>
    /// Writes <paramref name="image"/> into <paramref name="destination"/> as [3, H, W] floats.
    /// For a batch, pass the slice of the [N, 3, H, W] buffer that belongs to this image.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not exactly 3 * H * W long.</exception>
    public static unsafe void ToChw(Image<Rgb24> image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var width = image.Width;
        var height = image.Height;
        var plane = width * height;
        if (destination.Length != 3 * plane)
        {
            throw new ArgumentException(
                $"Destination holds {destination.Length} floats; a {width}x{height} image needs 3*{height}*{width} = {3 * plane}.",
                nameof(destination));
        }

        // A Span cannot be captured by the ProcessPixelRows callback, so pin it and hand the
        // callback its address; the callback runs synchronously inside the fixed scope.
        fixed (float* pinned = destination)
        {
            var address = (nint)pinned;
            image.ProcessPixelRows(accessor =>
            {
                var all = new Span<float>((void*)address, 3 * plane);
                for (var y = 0; y < accessor.Height; y++)
                {
                    var row = accessor.GetRowSpan(y);
                    var red = all.Slice(y * width, width);
                    var green = all.Slice(plane + (y * width), width);
                    var blue = all.Slice((2 * plane) + (y * width), width);
                    for (var x = 0; x < row.Length; x++)
                    {
                        var pixel = row[x];
                        red[x] = pixel.R / 255f;
                        green[x] = pixel.G / 255f;
                        blue[x] = pixel.B / 255f;
                    }
                }
            });
        }
    }

    /// <summary>Allocates a [3, H, W] float array and fills it with <see cref="ToChw(Image{Rgb24}, Span{float})"/>.</summary>
    public static float[] ToChw(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new float[3 * image.Width * image.Height];
        ToChw(image, result);
        return result;
    }

    /// <summary>
    /// Builds an 8-bit image from [3, H, W] floats: each value is clamped to [0, 1] (NaN becomes 0)
    /// and mapped to round(v * 255) with <see cref="MidpointRounding.ToEven"/>, the rounding of
    /// numpy's <c>np.round</c> and Math.Round's default. The caller owns the returned image.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="chw"/> is not exactly 3 * H * W long.</exception>
    public static unsafe Image<Rgb24> FromChw(ReadOnlySpan<float> chw, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var plane = width * height;
        if (chw.Length != 3 * plane)
        {
            throw new ArgumentException(
                $"Source holds {chw.Length} floats; a {width}x{height} image needs 3*{height}*{width} = {3 * plane}.",
                nameof(chw));
        }

        var image = new Image<Rgb24>(width, height);
        fixed (float* pinned = chw)
        {
            // See ToChw: the span travels into the callback as an address.
            var address = (nint)pinned;
            image.ProcessPixelRows(accessor =>
            {
                var all = new ReadOnlySpan<float>((void*)address, 3 * plane);
                for (var y = 0; y < accessor.Height; y++)
                {
                    var row = accessor.GetRowSpan(y);
                    var red = all.Slice(y * width, width);
                    var green = all.Slice(plane + (y * width), width);
                    var blue = all.Slice((2 * plane) + (y * width), width);
                    for (var x = 0; x < row.Length; x++)
                    {
                        row[x] = new Rgb24(ToByte(red[x]), ToByte(green[x]), ToByte(blue[x]));
                    }
                }
            });
        }

        return image;
    }

    internal static byte ToByte(float value)
    {
        // NaN fails both comparisons and lands on 0 instead of an undefined cast.
        var clamped = value >= 0f ? (value <= 1f ? value : 1f) : 0f;
        return (byte)MathF.Round(clamped * 255f, MidpointRounding.ToEven);
    }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Mage.Inference.Imaging;

/// <summary>
/// Resizes and centre-crops images to the model's square input the way the reference PyTorch
/// transforms do (torchvision <c>Resize(int)</c> + <c>CenterCrop</c>).
/// </summary>
/// <remarks>Stateless and thread-safe. Never disposes or modifies its input.</remarks>
public static class ImagePreprocessor
{
    /// <summary>The MAGE input size, in pixels a side.</summary>
    public const int DefaultSize = 256;

    /// <summary>The widest aspect ratio (longer side / shorter side) the resizing modes accept.</summary>
    public const int MaxAspectRatio = 64;

    /// <summary>Returns a new <paramref name="size"/> x <paramref name="size"/> image; the caller owns it.</summary>
    /// <exception cref="InvalidRequestException">Mode <see cref="PreprocessMode.None"/> and the image is not already size x size.</exception>
    public static Image<Rgb24> Apply(Image<Rgb24> image, PreprocessMode mode, int size = DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);

        return mode switch
        {
            PreprocessMode.Linprobe => ResizeAndCrop(image, LinprobeResize(size), size),
            PreprocessMode.Square => ResizeAndCrop(image, size, size),
            PreprocessMode.None when image.Width == size && image.Height == size => image.Clone(),
            PreprocessMode.None => throw new InvalidRequestException(
                $"Image is {image.Width}x{image.Height} but preprocess mode 'none' needs exactly {size}x{size}; use 'linprobe' or 'square' to resize."),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown preprocess mode."),
        };
    }

    // MAGE's linprobe evaluates with Resize(292) + CenterCrop(256), the usual 0.875 crop ratio;
    // truncation gives 292 for 256 as the reference does.
    internal static int LinprobeResize(int size) => (int)(size / 0.875);

    /// <summary>
    /// torchvision's Resize(int) size rule: the shorter side becomes <paramref name="shorter"/>,
    /// the longer one int(shorter * long / short), truncated.
    /// </summary>
    internal static Size ResizedSize(int width, int height, int shorter)
    {
        if (width <= height)
        {
            return new Size(shorter, (int)((long)shorter * height / width));
        }

        return new Size((int)((long)shorter * width / height), shorter);
    }

    /// <summary>
    /// torchvision's CenterCrop offset, int(round((length - size) / 2.0)). Python rounds halves
    /// to even, which is also Math.Round's default, so a 341-pixel side crops from 42, not 43.
    /// </summary>
    internal static int CenterCropOffset(int length, int size) =>
        (int)Math.Round((length - size) / 2.0, MidpointRounding.ToEven);

    private static Image<Rgb24> ResizeAndCrop(Image<Rgb24> image, int shorter, int size)
    {
        // The resize happens before the crop (as in torchvision), so a 1x16384 strip would become
        // a 256x4194304 intermediate. Refuse aspect ratios that no photograph has instead.
        var longer = Math.Max(image.Width, image.Height);
        var shorterSide = Math.Min(image.Width, image.Height);
        if ((long)longer > (long)shorterSide * MaxAspectRatio)
        {
            throw new InvalidRequestException(
                $"Image is {image.Width}x{image.Height}, an aspect ratio above {MaxAspectRatio}:1; resizing its shorter side to {shorter} would need too large an intermediate image.");
        }

        var resized = ResizedSize(image.Width, image.Height, shorter);
        var crop = new Rectangle(
            CenterCropOffset(resized.Width, size),
            CenterCropOffset(resized.Height, size),
            size,
            size);
        return image.Clone(x =>
        {
            if (resized.Width != image.Width || resized.Height != image.Height)
            {
                x.Resize(resized.Width, resized.Height, KnownResamplers.Bicubic);
            }

            x.Crop(crop);
        });
    }
}

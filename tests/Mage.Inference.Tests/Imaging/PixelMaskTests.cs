using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

public sealed class PixelMaskTests
{
    [Fact]
    public void Bright_opaque_pixels_are_masked_dark_and_transparent_ones_are_not()
    {
        using var mask = new Image<Rgba32>(4, 2);
        mask[0, 0] = new Rgba32(255, 255, 255, 255); // white: masked
        mask[1, 0] = new Rgba32(0, 0, 0, 255);       // black: kept
        mask[2, 0] = new Rgba32(128, 128, 128, 255); // luminance 128: masked
        mask[3, 0] = new Rgba32(127, 127, 127, 255); // luminance 127: kept
        mask[0, 1] = new Rgba32(255, 255, 255, 0);   // transparent white: kept
        mask[1, 1] = new Rgba32(255, 255, 255, 200); // mostly opaque white: masked
        mask[2, 1] = new Rgba32(255, 0, 0, 255);     // pure red, luminance 76: kept
        mask[3, 1] = new Rgba32(0, 255, 0, 255);     // pure green, luminance 150: masked
        var bytes = TestImages.Encode(mask, new PngEncoder());

        var flags = PixelMask.Load(bytes, ImageLimits.Default, 4, 2);

        Assert.Equal([true, false, true, false, false, true, false, true], flags);
    }

    [Fact]
    public void Mask_of_another_size_names_both_sizes()
    {
        using var mask = new Image<Rgba32>(8, 4);
        var bytes = TestImages.Encode(mask, new PngEncoder());

        var ex = Assert.Throws<InvalidRequestException>(() => PixelMask.Load(bytes, ImageLimits.Default, 4, 8));

        Assert.Contains("8x4", ex.Message);
        Assert.Contains("4x8", ex.Message);
    }

    [Fact]
    public void Mask_goes_through_the_same_limits_as_images()
    {
        var ex = Assert.Throws<ImageDecodeException>(() => PixelMask.Load([], ImageLimits.Default, 4, 4));

        Assert.Equal(ImageDecodeFailure.Empty, ex.Reason);
        Assert.Contains("'mask'", ex.Message);
    }
}

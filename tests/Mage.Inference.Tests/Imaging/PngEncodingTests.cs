using Mage.Inference.Imaging;

namespace Mage.Inference.Tests.Imaging;

public sealed class PngEncodingTests
{
    [Fact]
    public void Encode_decodes_back_to_the_same_pixels()
    {
        using var image = TestImages.Pattern(17, 9);

        var png = PngEncoding.Encode(image);
        using var decoded = ImageLoader.Load(png, ImageLimits.Default);

        ImageLoaderTests.AssertSamePixels(image, decoded);
    }

    [Fact]
    public void Encode_writes_8_bit_RGB()
    {
        using var image = TestImages.Pattern(4, 4);

        var png = PngEncoding.Encode(image);

        // IHDR follows the 8-byte signature and the chunk's length and type: width, height, then
        // bit depth (byte 24) and colour type (byte 25; 2 = truecolour without alpha).
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal((8, 2), (png[24], png[25]));
    }
}

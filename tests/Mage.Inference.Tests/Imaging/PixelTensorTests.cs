using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

public sealed class PixelTensorTests
{
    [Fact]
    public void ToChw_writes_planar_rgb_over_255()
    {
        using var image = new Image<Rgb24>(2, 1);
        image[0, 0] = new Rgb24(255, 0, 51);
        image[1, 0] = new Rgb24(0, 102, 255);

        var chw = PixelTensor.ToChw(image);

        // [R(0,0), R(1,0), G(0,0), G(1,0), B(0,0), B(1,0)]
        Assert.Equal([1f, 0f, 0f, 0.4f, 0.2f, 1f], chw);
    }

    [Fact]
    public void ToChw_then_FromChw_round_trips_every_8_bit_value()
    {
        // 256x3: every byte value in every channel, each channel ordered differently.
        using var image = new Image<Rgb24>(256, 3);
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                var row = a.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)x, (byte)(255 - x), (byte)((x * 37) + y));
                }
            }
        });

        var chw = new float[3 * 256 * 3];
        PixelTensor.ToChw(image, chw);
        using var back = PixelTensor.FromChw(chw, 256, 3);

        ImageLoaderTests.AssertSamePixels(image, back);
    }

    [Fact]
    public void ToChw_fills_a_slice_of_a_batch_buffer()
    {
        using var first = TestImages.Solid(4, 4, new Rgb24(255, 255, 255));
        using var second = TestImages.Solid(4, 4, new Rgb24(0, 0, 0));
        var batch = new float[2 * 3 * 4 * 4];

        PixelTensor.ToChw(first, batch.AsSpan(0, 48));
        PixelTensor.ToChw(second, batch.AsSpan(48, 48));

        Assert.All(batch[..48], v => Assert.Equal(1f, v));
        Assert.All(batch[48..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ToChw_rejects_a_wrong_length()
    {
        using var image = TestImages.Pattern(4, 4);

        var ex = Assert.Throws<ArgumentException>(() => PixelTensor.ToChw(image, new float[47]));

        Assert.Contains("48", ex.Message);
    }

    [Fact]
    public void FromChw_clamps_and_rounds_half_to_even()
    {
        // One pixel per value, all in the red plane; green and blue zero.
        float[] values = [-0.5f, 1.5f, float.NaN, 0.5f, 1f / 255f * 0.49f, 254.5f / 255f];
        var chw = new float[3 * values.Length];
        values.CopyTo(chw, 0);

        using var image = PixelTensor.FromChw(chw, values.Length, 1);

        var reds = Enumerable.Range(0, values.Length).Select(x => image[x, 0].R).ToArray();

        // 0.5 * 255 = 127.5 -> 128 (even); 254.5 -> 254 (even).
        Assert.Equal(new byte[] { 0, 255, 0, 128, 0, 254 }, reds);
    }
}

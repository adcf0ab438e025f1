using Mage.Inference.Editing;

namespace Mage.Inference.Tests.Editing;

public sealed class TokenMaskTests
{
    [Fact]
    public void A_single_masked_pixel_marks_its_token()
    {
        var pixels = new bool[256 * 256];
        pixels[(200 * 256) + 37] = true;

        var mask = TokenMask.FromPixelMask(pixels);

        Assert.Equal(1, mask.Count);
        Assert.True(mask[12, 2]);
        Assert.True(mask[(12 * 16) + 2]);
    }

    [Fact]
    public void An_empty_pixel_mask_marks_nothing()
    {
        Assert.Equal(0, TokenMask.FromPixelMask(new bool[256 * 256]).Count);
    }

    [Fact]
    public void A_pixel_mask_of_the_wrong_size_is_rejected()
    {
        var error = Assert.Throws<InvalidRequestException>(() => TokenMask.FromPixelMask(new bool[100]));
        Assert.Contains("100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Boxes_mark_every_token_they_touch()
    {
        var mask = TokenMask.FromBoxes([new PixelBox(16, 16, 32, 16), new PixelBox(100, 0, 1, 1)]);

        Assert.Equal(3, mask.Count);
        Assert.True(mask[1, 1]);
        Assert.True(mask[1, 2]);
        Assert.True(mask[0, 6]);
    }

    [Fact]
    public void Boxes_are_clipped_to_the_canvas()
    {
        Assert.Equal(TokenMask.FromBoxes([new PixelBox(0, 0, 10, 10)]), TokenMask.FromBoxes([new PixelBox(-10, -10, 20, 20)]));
        var corner = TokenMask.FromBoxes([new PixelBox(250, 250, int.MaxValue, int.MaxValue)]);
        Assert.Equal(1, corner.Count);
        Assert.True(corner[15, 15]);
    }

    [Fact]
    public void Box_masks_equal_pixel_masks()
    {
        var random = new Random(1);
        for (int trial = 0; trial < 50; trial++)
        {
            var box = new PixelBox(random.Next(-50, 250), random.Next(-50, 250), random.Next(1, 120), random.Next(1, 120));
            if (box.Right <= 0 || box.Bottom <= 0)
            {
                continue;
            }

            var pixels = new bool[256 * 256];
            for (int y = Math.Max(0, box.Y); y < Math.Min(256, box.Bottom); y++)
            {
                for (int x = Math.Max(0, box.X); x < Math.Min(256, box.Right); x++)
                {
                    pixels[(y * 256) + x] = true;
                }
            }

            Assert.Equal(TokenMask.FromPixelMask(pixels), TokenMask.FromBoxes([box]));
        }
    }

    [Theory]
    [InlineData(10, 10, 0, 5, "size")]
    [InlineData(10, 10, 5, -1, "size")]
    [InlineData(256, 0, 10, 10, "outside")]
    [InlineData(-20, 0, 20, 10, "outside")]
    [InlineData(0, -5, 10, 5, "outside")]
    public void Invalid_boxes_are_rejected(int x, int y, int width, int height, string expected)
    {
        var error = Assert.Throws<InvalidRequestException>(() => TokenMask.FromBoxes([new PixelBox(x, y, width, height)]));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, 8, 1, 9)]
    [InlineData(8, 8, 2, 25)]
    [InlineData(0, 0, 1, 4)]
    [InlineData(0, 15, 3, 16)]
    [InlineData(5, 5, 16, 256)]
    [InlineData(5, 5, 0, 1)]
    public void Dilation_grows_a_square(int row, int column, int radius, int expectedCount)
    {
        var flags = new bool[256];
        flags[(row * 16) + column] = true;

        Assert.Equal(expectedCount, new TokenMask(flags).Dilate(radius).Count);
    }

    [Fact]
    public void Dilation_equals_brute_force_chebyshev_dilation()
    {
        var random = new Random(2);
        for (int trial = 0; trial < 40; trial++)
        {
            var flags = new bool[256];
            for (int i = 0; i < 6; i++)
            {
                flags[random.Next(256)] = true;
            }

            int radius = random.Next(0, 5);
            var expected = new bool[256];
            for (int p = 0; p < 256; p++)
            {
                for (int q = 0; q < 256; q++)
                {
                    if (flags[q] && Math.Max(Math.Abs((p / 16) - (q / 16)), Math.Abs((p % 16) - (q % 16))) <= radius)
                    {
                        expected[p] = true;
                    }
                }
            }

            Assert.Equal(new TokenMask(expected), new TokenMask(flags).Dilate(radius));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(17)]
    public void Dilation_radius_is_validated(int radius)
    {
        var error = Assert.Throws<InvalidRequestException>(() => new TokenMask(new bool[256]).Dilate(radius));
        Assert.Contains(radius.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_masks_unknown_positions_in_a_copy()
    {
        long[] tokens = Enumerable.Range(0, 256).Select(i => (long)(i * 3)).ToArray();
        var mask = TokenMask.FromBoxes([new PixelBox(0, 0, 32, 16)]);

        long[] masked = mask.Apply(tokens);

        Assert.Equal(MageTokens.MaskId, masked[0]);
        Assert.Equal(MageTokens.MaskId, masked[1]);
        Assert.Equal(tokens[2..], masked[2..]);
        Assert.Equal(0, tokens[0]);
        Assert.Throws<InvalidRequestException>(() => mask.Apply(new long[10]));
    }

    [Fact]
    public void Pixel_mask_round_trips()
    {
        var mask = TokenMask.FromBoxes([new PixelBox(40, 70, 90, 33), new PixelBox(200, 5, 3, 3)]).Dilate(1);
        var pixels = new bool[256 * 256];

        mask.ToPixelMask(pixels);

        Assert.Equal(mask, TokenMask.FromPixelMask(pixels));
        Assert.Equal(mask.Count * 256, pixels.Count(p => p));
    }
}

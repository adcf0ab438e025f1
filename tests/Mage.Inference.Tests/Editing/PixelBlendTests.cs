using Mage.Inference.Editing;

namespace Mage.Inference.Tests.Editing;

public sealed class PixelBlendTests
{
    private const int Width = 64;
    private const int Height = 48;

    [Fact]
    public void Outside_the_edit_the_original_is_kept_exactly_and_deep_inside_the_generated()
    {
        var random = new Random(3);
        float[] original = RandomImage(random, 3);
        float[] generated = RandomImage(random, 3);
        bool[] edit = Box(10, 8, 30, 22);
        var destination = new float[original.Length];

        PixelBlend.BlendOutsideEdit(original, generated, edit, Width, Height, featherPixels: 6, destination);

        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < Height; y++)
            {
                for (int x = 0; x < Width; x++)
                {
                    int i = (c * Width * Height) + (y * Width) + x;
                    int depth = Math.Min(Math.Min(x - 10 + 1, 39 - x + 1), Math.Min(y - 8 + 1, 29 - y + 1));
                    if (!edit[(y * Width) + x])
                    {
                        Assert.Equal(original[i], destination[i]);
                    }
                    else if (depth >= 6)
                    {
                        Assert.Equal(generated[i], destination[i]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Alpha_ramps_monotonically_from_the_edge()
    {
        bool[] edit = Box(10, 8, 30, 22);
        var alpha = new float[Width * Height];

        PixelBlend.ComputeAlpha(edit, Width, Height, featherPixels: 6, alpha);

        int row = 8 + 11;
        Assert.Equal(0f, alpha[(row * Width) + 9]);
        Assert.Equal(1f / 6, alpha[(row * Width) + 10], 6);
        for (int x = 10; x < 25; x++)
        {
            Assert.True(alpha[(row * Width) + x + 1] >= alpha[(row * Width) + x], $"alpha falls at column {x}");
        }

        Assert.Equal(1f, alpha[(row * Width) + 16]);
    }

    [Fact]
    public void Alpha_equals_brute_force_euclidean_distance()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            int width = random.Next(1, 30), height = random.Next(1, 30), feather = random.Next(1, 12);
            var edit = new bool[width * height];
            for (int i = 0; i < edit.Length; i++)
            {
                edit[i] = random.NextDouble() < 0.8;
            }

            var alpha = new float[edit.Length];
            PixelBlend.ComputeAlpha(edit, width, height, feather, alpha);

            for (int i = 0; i < edit.Length; i++)
            {
                double nearest = double.PositiveInfinity;
                for (int j = 0; j < edit.Length; j++)
                {
                    if (!edit[j])
                    {
                        int dx = (i % width) - (j % width), dy = (i / width) - (j / width);
                        nearest = Math.Min(nearest, Math.Sqrt((dx * dx) + (dy * dy)));
                    }
                }

                float expected = !edit[i] ? 0f : (float)Math.Min(1, nearest / feather);
                Assert.Equal(expected, alpha[i], 5);
            }
        }
    }

    [Fact]
    public void A_zero_feather_pastes_with_a_hard_edge()
    {
        var random = new Random(5);
        float[] original = RandomImage(random, 1);
        float[] generated = RandomImage(random, 1);
        bool[] edit = Box(0, 0, 20, 20);
        var destination = new float[original.Length];

        PixelBlend.BlendOutsideEdit(original, generated, edit, Width, Height, 0, destination);

        for (int i = 0; i < destination.Length; i++)
        {
            Assert.Equal(edit[i] ? generated[i] : original[i], destination[i]);
        }
    }

    [Fact]
    public void The_canvas_border_does_not_fade_the_edit()
    {
        // An outpainting-style region: the left 20 columns, touching the border.
        bool[] edit = Box(0, 0, 20, Height);
        var alpha = new float[Width * Height];

        PixelBlend.ComputeAlpha(edit, Width, Height, 8, alpha);

        Assert.Equal(1f, alpha[(10 * Width) + 0]);
        Assert.Equal(1f / 8, alpha[(10 * Width) + 19], 6);
    }

    [Fact]
    public void A_fully_edited_image_is_fully_generated()
    {
        var alpha = new float[Width * Height];
        PixelBlend.ComputeAlpha(Enumerable.Repeat(true, Width * Height).ToArray(), Width, Height, 8, alpha);
        Assert.All(alpha, a => Assert.Equal(1f, a));
    }

    [Fact]
    public void Blending_in_place_over_the_generated_image_works()
    {
        var random = new Random(6);
        float[] original = RandomImage(random, 3);
        float[] generated = RandomImage(random, 3);
        bool[] edit = Box(5, 5, 40, 30);
        var expected = new float[original.Length];
        PixelBlend.BlendOutsideEdit(original, generated, edit, Width, Height, 4, expected);

        PixelBlend.BlendOutsideEdit(original, generated, edit, Width, Height, 4, generated);

        Assert.Equal(expected, generated);
    }

    [Fact]
    public void Mismatched_inputs_are_rejected()
    {
        var image = new float[3 * Width * Height];
        var edit = new bool[Width * Height];
        Assert.Throws<InvalidRequestException>(() => PixelBlend.BlendOutsideEdit(image, new float[10], edit, Width, Height, 4, new float[image.Length]));
        Assert.Throws<InvalidRequestException>(() => PixelBlend.BlendOutsideEdit(image, image, new bool[5], Width, Height, 4, new float[image.Length]));
        Assert.Throws<InvalidRequestException>(() => PixelBlend.BlendOutsideEdit(new float[7], new float[7], edit, Width, Height, 4, new float[7]));
        var feather = Assert.Throws<InvalidRequestException>(() => PixelBlend.BlendOutsideEdit(image, image, edit, Width, Height, -1, new float[image.Length]));
        Assert.Contains("-1", feather.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidRequestException>(() => PixelBlend.ComputeAlpha(edit, 0, Height, 4, new float[edit.Length]));
    }

    private static float[] RandomImage(Random random, int channels)
    {
        var image = new float[channels * Width * Height];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = random.NextSingle();
        }

        return image;
    }

    /// <summary>Edit flags for the box of columns x..x+w-1 and rows y..y+h-1.</summary>
    private static bool[] Box(int x, int y, int w, int h)
    {
        var edit = new bool[Width * Height];
        for (int row = y; row < y + h; row++)
        {
            edit.AsSpan((row * Width) + x, w).Fill(true);
        }

        return edit;
    }
}

using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

public sealed class ImagePreprocessorTests
{
    private static readonly Rgb24 Red = new(255, 0, 0);
    private static readonly Rgb24 Green = new(0, 255, 0);

    [Theory]
    [InlineData(PreprocessMode.Linprobe, 400, 300)]
    [InlineData(PreprocessMode.Linprobe, 300, 400)]
    [InlineData(PreprocessMode.Square, 400, 300)]
    [InlineData(PreprocessMode.Square, 100, 120)]
    [InlineData(PreprocessMode.Square, 256, 256)]
    public void Apply_returns_256x256_and_leaves_the_input_alone(PreprocessMode mode, int width, int height)
    {
        using var input = TestImages.Pattern(width, height);
        using var before = input.Clone();

        using var output = ImagePreprocessor.Apply(input, mode);

        Assert.Equal((256, 256), (output.Width, output.Height));
        ImageLoaderTests.AssertSamePixels(before, input);
    }

    [Fact]
    public void Linprobe_crops_away_a_border_that_square_keeps()
    {
        // 584x584: green with a 28-pixel red border. Linprobe scales by 292/584 = 0.5 (border 14)
        // and crops 18 from each side, so no red survives; square keeps the border in the corners.
        using var input = Bordered(584, 584, 28);

        using var linprobe = ImagePreprocessor.Apply(input, PreprocessMode.Linprobe);
        using var square = ImagePreprocessor.Apply(input, PreprocessMode.Square);

        ImageLoaderTests.AssertClose(Green, linprobe[0, 0], tolerance: 2);
        ImageLoaderTests.AssertClose(Green, linprobe[255, 255], tolerance: 2);
        ImageLoaderTests.AssertClose(Red, square[0, 0], tolerance: 2);
        ImageLoaderTests.AssertClose(Red, square[255, 255], tolerance: 2);
        ImageLoaderTests.AssertClose(Green, square[128, 128], tolerance: 2);
    }

    [Fact]
    public void Square_crop_takes_the_centre_of_a_wide_image()
    {
        // 768x256 with the middle third green and the outer thirds red: square keeps the height,
        // so the centre crop is exactly the green third.
        using var input = TestImages.Solid(768, 256, Red);
        input.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                a.GetRowSpan(y).Slice(256, 256).Fill(Green);
            }
        });

        using var output = ImagePreprocessor.Apply(input, PreprocessMode.Square);

        Assert.Equal(Green, output[0, 0]);
        Assert.Equal(Green, output[255, 128]);
    }

    [Theory]
    [InlineData(341, 256, 42)] // (341-256)/2 = 42.5 rounds half to even, like Python's round
    [InlineData(343, 256, 44)] // 43.5 -> 44
    [InlineData(292, 256, 18)]
    [InlineData(256, 256, 0)]
    public void CenterCropOffset_matches_torchvision(int length, int size, int expected) =>
        Assert.Equal(expected, ImagePreprocessor.CenterCropOffset(length, size));

    [Theory]
    [InlineData(400, 300, 292, 389, 292)] // int(292 * 400 / 300) = int(389.33)
    [InlineData(300, 400, 256, 256, 341)]
    [InlineData(500, 500, 256, 256, 256)]
    public void ResizedSize_matches_torchvision(int width, int height, int shorter, int expectedWidth, int expectedHeight) =>
        Assert.Equal(new Size(expectedWidth, expectedHeight), ImagePreprocessor.ResizedSize(width, height, shorter));

    [Fact]
    public void Linprobe_resizes_the_shorter_side_to_292() =>
        Assert.Equal(292, ImagePreprocessor.LinprobeResize(256));

    [Fact]
    public void None_clones_a_256x256_image_exactly()
    {
        using var input = TestImages.Pattern(256, 256);

        using var output = ImagePreprocessor.Apply(input, PreprocessMode.None);

        Assert.NotSame(input, output);
        ImageLoaderTests.AssertSamePixels(input, output);
    }

    [Fact]
    public void None_rejects_other_sizes_naming_size_and_mode()
    {
        using var input = TestImages.Pattern(255, 256);

        var ex = Assert.Throws<InvalidRequestException>(() => ImagePreprocessor.Apply(input, PreprocessMode.None));

        Assert.Contains("255x256", ex.Message);
        Assert.Contains("'none'", ex.Message);
    }

    [Fact]
    public void Extreme_aspect_ratios_are_refused_before_resizing()
    {
        using var input = TestImages.Solid(1, 100, Red);

        var ex = Assert.Throws<InvalidRequestException>(() => ImagePreprocessor.Apply(input, PreprocessMode.Square));

        Assert.Contains("1x100", ex.Message);
    }

    private static Image<Rgb24> Bordered(int width, int height, int border)
    {
        var image = TestImages.Solid(width, height, Red);
        image.ProcessPixelRows(a =>
        {
            for (var y = border; y < height - border; y++)
            {
                a.GetRowSpan(y)[border..(width - border)].Fill(Green);
            }
        });
        return image;
    }
}

using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

public sealed class ImageLoaderTests
{
    public static TheoryData<string> LosslessFormats => ["png", "webp", "bmp"];

    private static IImageEncoder Encoder(string format) => format switch
    {
        "png" => new PngEncoder(),
        "webp" => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        "bmp" => new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 },
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory]
    [MemberData(nameof(LosslessFormats))]
    public void Load_lossless_formats_round_trip_every_pixel(string format)
    {
        using var original = TestImages.Pattern(37, 23);
        var bytes = TestImages.Encode(original, Encoder(format));

        using var loaded = ImageLoader.Load(bytes, ImageLimits.Default);

        AssertSamePixels(original, loaded);
    }

    [Fact]
    public void Load_jpeg_is_close_to_the_original()
    {
        using var original = TestImages.Solid(32, 16, new Rgb24(200, 40, 90));
        var bytes = TestImages.Encode(original, new JpegEncoder { Quality = 95 });

        using var loaded = ImageLoader.Load(bytes, ImageLimits.Default);

        Assert.Equal((32, 16), (loaded.Width, loaded.Height));
        // Lossy: a flat colour survives JPEG within a few levels per channel.
        AssertClose(new Rgb24(200, 40, 90), loaded[16, 8], tolerance: 6);
    }

    [Fact]
    public void Load_gif_decodes_the_first_frame_only()
    {
        using var animation = TestImages.Solid(8, 8, new Rgb24(255, 0, 0)).CloneAs<Rgba32>();
        using (var second = TestImages.Solid(8, 8, new Rgb24(0, 0, 255)).CloneAs<Rgba32>())
        {
            animation.Frames.AddFrame(second.Frames.RootFrame);
        }

        var bytes = TestImages.Encode(animation, new GifEncoder());

        using var loaded = ImageLoader.Load(bytes, ImageLimits.Default);

        Assert.Equal(1, loaded.Frames.Count);
        Assert.Equal(new Rgb24(255, 0, 0), loaded[4, 4]);
    }

    [Fact]
    public void Load_applies_exif_orientation()
    {
        // 32x16, red 8x8 block in the top-left corner, blue elsewhere. Orientation 6 means
        // "rotate 90 degrees clockwise to display", which moves top-left to top-right.
        using var image = TestImages.Solid(32, 16, new Rgb24(0, 0, 255));
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < 8; y++)
            {
                a.GetRowSpan(y)[..8].Fill(new Rgb24(255, 0, 0));
            }
        });
        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        var bytes = TestImages.Encode(image, new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 });

        using var loaded = ImageLoader.Load(bytes, ImageLimits.Default);

        Assert.Equal((16, 32), (loaded.Width, loaded.Height));
        AssertClose(new Rgb24(255, 0, 0), loaded[16 - 4, 4], tolerance: 24);
        AssertClose(new Rgb24(0, 0, 255), loaded[4, 4], tolerance: 24);
    }

    [Fact]
    public void Load_from_stream_matches_load_from_memory()
    {
        using var original = TestImages.Pattern(10, 10);
        var bytes = TestImages.Encode(original, new PngEncoder());

        using var fromStream = ImageLoader.Load(new NonSeekableStream(bytes), ImageLimits.Default);

        AssertSamePixels(original, fromStream);
    }

    [Fact]
    public async Task LoadAsync_reads_the_stream()
    {
        using var original = TestImages.Pattern(10, 10);
        var bytes = TestImages.Encode(original, new PngEncoder());

        using var loaded = await ImageLoader.LoadAsync(new MemoryStream(bytes), ImageLimits.Default, "a.png", CancellationToken.None);

        AssertSamePixels(original, loaded);
    }

    [Fact]
    public void Load_accepts_an_image_exactly_at_the_limits()
    {
        using var original = TestImages.Pattern(20, 10);
        var bytes = TestImages.Encode(original, new PngEncoder());
        var limits = new ImageLimits { MaxBytes = bytes.Length, MaxPixels = 200, MaxDimension = 20 };

        using var loaded = ImageLoader.Load(bytes, limits);

        Assert.Equal((20, 10), (loaded.Width, loaded.Height));
    }

    [Fact]
    public void ImageLimits_rejects_non_positive_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLimits { MaxBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLimits { MaxPixels = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLimits { MaxDimension = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLimits { MaxFrames = 0 });
        Assert.Equal(32L * 1024 * 1024, ImageLimits.Default.MaxBytes); // one default for the library, the CLI and the service
        Assert.Equal(50_000_000, ImageLimits.Default.MaxPixels);
        Assert.Equal(16384, ImageLimits.Default.MaxDimension);
        Assert.Equal(256, ImageLimits.Default.MaxFrames);
    }

    internal static void AssertSamePixels(Image<Rgb24> expected, Image<Rgb24> actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var a = new Rgb24[expected.Width * expected.Height];
        var b = new Rgb24[a.Length];
        expected.CopyPixelDataTo(a);
        actual.CopyPixelDataTo(b);
        Assert.Equal(a, b);
    }

    internal static void AssertClose(Rgb24 expected, Rgb24 actual, int tolerance)
    {
        Assert.True(
            Math.Abs(expected.R - actual.R) <= tolerance
            && Math.Abs(expected.G - actual.G) <= tolerance
            && Math.Abs(expected.B - actual.B) <= tolerance,
            $"Expected {expected} within {tolerance} per channel, got {actual}.");
    }

    /// <summary>A read-only stream that hides its length, like a network body.</summary>
    internal sealed class NonSeekableStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
    }
}

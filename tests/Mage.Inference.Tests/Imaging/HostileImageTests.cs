using Mage.Inference.Imaging;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;

namespace Mage.Inference.Tests.Imaging;

/// <summary>
/// Inputs built to hurt a decoder. Each must be refused with the right reason and without
/// allocating anything close to the declared image: neither pixel buffers (counted through
/// ImageSharp's allocator) nor managed memory.
/// </summary>
public sealed class HostileImageTests
{
    // Bytes a rejection may allocate, managed (headers, messages, exception objects and their
    // stack traces) and through ImageSharp's allocator (a decoder's scratch rows). Asserted below
    // both this and a tenth of the declared pixel bytes; a decoded image of any of these inputs
    // would be at least ten times more.
    private const long AllocationBudget = 1 << 20;

    [Fact]
    public void The_allocation_count_sees_a_decode()
    {
        // The control for AssertRejected: loading the same kind of image in full counts at least
        // its pixels, so a loader that decoded a hostile image could not pass under the budget.
        using var image = TestImages.Noise(512, 512, seed: 1);
        var bytes = TestImages.Encode(image, new PngEncoder());
        var (configuration, allocator) = CountingAllocator.NewConfiguration();

        using var loaded = ImageLoader.LoadCore<SixLabors.ImageSharp.PixelFormats.Rgb24>(bytes, ImageLimits.Default, null, configuration);

        Assert.True(allocator.AllocatedBytes >= 512 * 512 * 3, $"Counted {allocator.AllocatedBytes} bytes.");
    }

    [Fact]
    public void Empty_input_is_Empty()
    {
        var ex = AssertRejected([], ImageDecodeFailure.Empty);
        Assert.Contains("0 bytes", ex.Message);
    }

    [Fact]
    public void Text_is_NotAnImage()
    {
        var ex = AssertRejected("hello, this is not an image\n"u8.ToArray(), ImageDecodeFailure.NotAnImage);
        Assert.Contains("PNG, JPEG, WebP, BMP, GIF", ex.Message);
    }

    [Fact]
    public void Png_claiming_30000x30000_is_TooLarge_before_decoding()
    {
        // A valid header and a tiny IDAT; a decoder that trusted IHDR would allocate 2.7 GB.
        var bytes = TestImages.Png(30000, 30000, ("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));

        var ex = AssertRejected(bytes, ImageDecodeFailure.TooLarge, declaredPixelBytes: 30000L * 30000 * 3);

        Assert.Equal(
            "Image 'huge.png' is 30000x30000 = 900000000 pixels; the limit is 50000000 pixels (ImageLimits.MaxPixels).",
            ex.Message);
    }

    [Fact]
    public void Image_wider_than_MaxDimension_is_TooLarge()
    {
        var bytes = TestImages.Png(20000, 1, ("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));

        var ex = AssertRejected(bytes, ImageDecodeFailure.TooLarge);

        Assert.Contains("20000x1", ex.Message);
        Assert.Contains("ImageLimits.MaxDimension", ex.Message);
    }

    [Theory]
    [InlineData("png", "IDAT")]
    [InlineData("jpeg", "truncated JPEG")] // ImageSharp alone would decode it, making up the lower half
    public void Image_cut_in_the_middle_of_its_data_is_Corrupt(string format, string named)
    {
        using var image = TestImages.Noise(512, 512, seed: 1);
        var full = TestImages.Encode(image, format == "png" ? new PngEncoder() : new JpegEncoder());
        var truncated = full[..(full.Length / 2)];

        var ex = AssertRejected(truncated, ImageDecodeFailure.Corrupt, declaredPixelBytes: 512 * 512 * 3);

        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void Png_with_damaged_data_is_Corrupt_and_keeps_the_decoder_error()
    {
        using var image = TestImages.Noise(64, 64, seed: 2);
        var bytes = TestImages.Encode(image, new PngEncoder());

        // Flip a byte well inside IDAT: the structure stays intact, the CRC no longer matches.
        bytes[bytes.Length / 2] ^= 0xFF;

        var ex = AssertRejected(bytes, ImageDecodeFailure.Corrupt);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void Gif_with_10000_frames_is_TooLarge()
    {
        var bytes = TestImages.GifWithFrames(10000);

        var ex = AssertRejected(bytes, ImageDecodeFailure.TooLarge);

        Assert.Contains("ImageLimits.MaxFrames", ex.Message);
    }

    [Fact]
    public void Gif_at_the_frame_limit_loads()
    {
        var bytes = TestImages.GifWithFrames(3);

        using var image = ImageLoader.Load(bytes, new ImageLimits { MaxFrames = 3 });

        Assert.Equal((1, 1), (image.Width, image.Height));
    }

    [Fact]
    public void Animated_webp_with_too_many_frames_is_TooLarge()
    {
        // RIFF/WEBP with a VP8X chunk flagging animation and 300 empty ANMF chunks; only the
        // chunk walk looks at it.
        using var stream = new MemoryStream();
        stream.Write("RIFF"u8);
        stream.Write(new byte[4]);
        stream.Write("WEBPVP8X"u8);
        stream.Write([10, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for (var i = 0; i < 300; i++)
        {
            stream.Write("ANMF"u8);
            stream.Write([0, 0, 0, 0]);
        }

        var ex = AssertRejected(stream.ToArray(), ImageDecodeFailure.TooLarge);

        Assert.Contains("WebP", ex.Message);
    }

    [Fact]
    public void Tga_is_Unsupported()
    {
        using var image = TestImages.Pattern(8, 8);
        var ex = AssertRejected(TestImages.Encode(image, new TgaEncoder()), ImageDecodeFailure.Unsupported);
        Assert.Contains("TGA", ex.Message);
    }

    [Fact]
    public void Tiff_is_Unsupported()
    {
        using var image = TestImages.Pattern(8, 8);
        var ex = AssertRejected(TestImages.Encode(image, new TiffEncoder()), ImageDecodeFailure.Unsupported);
        Assert.Contains("TIFF", ex.Message);
    }

    [Fact]
    public void Bytes_over_MaxBytes_are_TooLarge()
    {
        var limits = new ImageLimits { MaxBytes = 1000 };
        var bytes = TestImages.Png(10, 10, ("IDAT", new byte[2000]));

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(bytes, limits));

        Assert.Equal(ImageDecodeFailure.TooLarge, ex.Reason);
        Assert.Contains("ImageLimits.MaxBytes", ex.Message);
    }

    [Fact]
    public void Stream_over_MaxBytes_is_refused_after_MaxBytes_plus_one()
    {
        var limits = new ImageLimits { MaxBytes = 1000 };
        var stream = new CountingStream(new byte[1_000_000]);

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(stream, limits));

        Assert.Equal(ImageDecodeFailure.TooLarge, ex.Reason);
        Assert.Equal(1001, stream.BytesRead);
    }

    [Fact]
    public void Seekable_stream_over_MaxBytes_is_refused_without_reading()
    {
        var limits = new ImageLimits { MaxBytes = 1000 };
        using var stream = new MemoryStream(new byte[5000]);

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(stream, limits, "big.bin"));

        Assert.Equal(ImageDecodeFailure.TooLarge, ex.Reason);
        Assert.Equal(0, stream.Position);
        Assert.Equal("Image 'big.bin' is 5000 bytes; the limit is 1000 bytes (ImageLimits.MaxBytes).", ex.Message);
    }

    private static ImageDecodeException AssertRejected(
        byte[] bytes,
        ImageDecodeFailure expected,
        long declaredPixelBytes = long.MaxValue)
    {
        var name = expected == ImageDecodeFailure.TooLarge ? "huge.png" : null;

        // Warm up so JIT and type loading do not count against the budget.
        Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(bytes, ImageLimits.Default, name));

        var (configuration, allocator) = CountingAllocator.NewConfiguration();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.LoadCore<SixLabors.ImageSharp.PixelFormats.Rgb24>(bytes, ImageLimits.Default, name, configuration));
        var managed = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(expected, ex.Reason);
        var budget = Math.Min(AllocationBudget, declaredPixelBytes / 10);
        Assert.True(
            allocator.AllocatedBytes < budget,
            $"Rejection took {allocator.AllocatedBytes} bytes from ImageSharp's allocator; the image would need {declaredPixelBytes}.");
        Assert.True(managed < budget, $"Rejection allocated {managed} managed bytes; the image would need {declaredPixelBytes}.");
        return ex;
    }

    private sealed class CountingStream(byte[] data) : Stream
    {
        private readonly MemoryStream inner = new(data);

        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

using Mage.Inference.Imaging;
using Mage.Inference.Tests.Numpy;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

/// <summary>
/// A JPEG cut short (a half-finished upload or download) is refused by default, as PIL refuses it,
/// and accepted with <see cref="ImageLimits.AllowTruncatedJpeg"/>. ImageSharp alone decodes such
/// files without complaint, so every refusal here is the marker walk's doing.
/// </summary>
public sealed class JpegTruncationTests
{
    /// <summary>
    /// Made by PIL 9.4 (quality 90, progressive, 10 scans) from R = 5x, G = 8y, B = (7x + 13y) mod 256.
    /// Its markers, walked in Python: SOF2 at 158, the first SOS at 229 with its data up to the
    /// DHT at 276, the second SOS at 305, the fifth at 577 with its data up to the DHT at 614, the
    /// sixth SOS at 645, the tenth at 900, EOI at 1021 (1023 bytes in all).
    /// </summary>
    private const string ProgressiveFixture = "tests/fixtures/jpeg/progressive-48x32.jpg";

    private static readonly ImageLimits AllowTruncated = new() { AllowTruncatedJpeg = true };

    [Fact]
    public void ImageLimits_refuse_truncated_jpegs_by_default()
    {
        Assert.False(ImageLimits.Default.AllowTruncatedJpeg);
    }

    [Theory]
    [InlineData(30, "the DQT segment at byte 20 declares 132 bytes but only 8 remain")]
    [InlineData(596, "the data ends at byte 596 inside the length of the SOS marker at byte 593")]
    [InlineData(1000, "the data ends at byte 1000 inside the entropy-coded data of scan 1 (SOS at byte 593)")]
    [InlineData(-3, "inside the entropy-coded data of scan 1 (SOS at byte 593)")]
    [InlineData(-2, "inside the entropy-coded data of scan 1 (SOS at byte 593)")]
    [InlineData(-1, "inside the entropy-coded data of scan 1 (SOS at byte 593)")]
    public void Baseline_jpeg_cut_short_is_refused_saying_where(int cut, string where)
    {
        // ImageSharp 2.1 writes SOI, APP0 (JFIF), DQT at 20 (132 bytes), SOF0 at 154, DHT at 173
        // (418 bytes) and SOS at 593 for this image; EOI is the last two bytes (1878 in all).
        var whole = BaselineJpeg();
        Assert.Equal(1878, whole.Length);
        var bytes = whole[..(cut < 0 ? whole.Length + cut : cut)];

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(bytes, ImageLimits.Default, "a.jpg"));

        Assert.Equal(ImageDecodeFailure.Corrupt, ex.Reason);
        Assert.StartsWith($"Image 'a.jpg' is a truncated JPEG ({bytes.Length} bytes): ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(where, ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("Accepting such files is an opt-in (the service's Mage__Limits__AllowTruncatedJpeg, mage's --allow-truncated-jpeg).", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(276, "the data ends at byte 276 inside the entropy-coded data of scan 1 (SOS at byte 229)")]
    [InlineData(305, "the data ends at byte 305 after scan 1, before the end-of-image marker (FFD9)")]
    [InlineData(600, "the data ends at byte 600 inside the entropy-coded data of scan 5 (SOS at byte 577)")]
    [InlineData(645, "the data ends at byte 645 after scan 5, before the end-of-image marker (FFD9)")]
    [InlineData(1021, "the data ends at byte 1021 inside the entropy-coded data of scan 10 (SOS at byte 900)")]
    public void Progressive_jpeg_cut_between_or_inside_scans_is_refused_saying_where(int cut, string where)
    {
        var bytes = File.ReadAllBytes(RepoPaths.Full(ProgressiveFixture))[..cut];

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(bytes, ImageLimits.Default));

        Assert.Equal(ImageDecodeFailure.Corrupt, ex.Reason);
        Assert.Contains(where, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Whole_progressive_jpeg_loads()
    {
        var bytes = File.ReadAllBytes(RepoPaths.Full(ProgressiveFixture));

        using var image = ImageLoader.Load(bytes, ImageLimits.Default);

        Assert.Equal((48, 32), (image.Width, image.Height));
    }

    [Fact]
    public void Bytes_after_EOI_are_ignored_and_the_pixels_are_those_of_the_whole_file()
    {
        var whole = BaselineJpeg();

        // What cameras and careless tools append: zeros, text, even a second SOI.
        byte[] trailing = [.. whole, 0, 0, .. "junk"u8, 0xFF, 0xD8, 0xFF, 0xE0, 0x00];

        using var expected = ImageLoader.Load(whole, ImageLimits.Default);
        using var loaded = ImageLoader.Load(trailing, ImageLimits.Default);

        ImageLoaderTests.AssertSamePixels(expected, loaded);
    }

    [Fact]
    public void Opt_in_decodes_a_jpeg_cut_mid_scan_with_black_where_data_is_missing()
    {
        var whole = BaselineJpeg();
        var bytes = whole[..1000];

        using var image = ImageLoader.Load(bytes, AllowTruncated);

        // The first rows came before the cut; the last row came after it and is made up.
        Assert.Equal((64, 64), (image.Width, image.Height));
        Assert.NotEqual(new Rgb24(0, 0, 0), image[40, 0]);
        Assert.Equal(new Rgb24(0, 0, 0), image[40, 63]);
    }

    [Theory]
    [InlineData(276)]
    [InlineData(305)]
    [InlineData(1021)]
    public void Opt_in_decodes_a_progressive_jpeg_cut_short(int cut)
    {
        var bytes = File.ReadAllBytes(RepoPaths.Full(ProgressiveFixture))[..cut];

        using var image = ImageLoader.Load(bytes, AllowTruncated);

        Assert.Equal((48, 32), (image.Width, image.Height));
    }

    [Fact]
    public void Opt_in_still_refuses_a_jpeg_cut_inside_its_headers()
    {
        var bytes = BaselineJpeg()[..30];

        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(bytes, AllowTruncated));

        // The decoder's own failure: there is nothing to decode without the tables.
        Assert.Equal(ImageDecodeFailure.Corrupt, ex.Reason);
        Assert.DoesNotContain("truncated JPEG", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public void EOI_inside_an_APP_segment_does_not_count()
    {
        // An EXIF thumbnail is a whole JPEG, EOI included, inside APP1: a search for FFD9 would
        // call the cut file complete; only walking the segment lengths sees past it.
        var whole = BaselineJpeg();
        byte[] thumbnail = [.. "Exif\0\0"u8, 0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xD9];
        byte[] app1 = [0xFF, 0xE1, 0, (byte)(thumbnail.Length + 2), .. thumbnail];
        byte[] withApp1 = [.. whole[..2], .. app1, .. whole[2..]];

        using (var image = ImageLoader.Load(withApp1, ImageLimits.Default))
        {
            Assert.Equal((64, 64), (image.Width, image.Height));
        }

        var cut = withApp1[..1000];
        var ex = Assert.Throws<ImageDecodeException>(() => ImageLoader.Load(cut, ImageLimits.Default));
        Assert.Contains($"SOS at byte {593 + app1.Length}", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Hand-built streams for what the encoders here never write: restart markers, fill bytes,
    /// stuffed FF00. Expected answers follow from ITU-T T.81 B.1, not from the walk.
    /// </summary>
    public static TheoryData<string, string?> Streams => new()
    {
        // SOI, DRI (interval 1), SOS (one component), data with FF00, RST0, RST7 and fill bytes, EOI.
        { "FFD8 FFDD00040001 FFDA0008010100003F00 12FF0034FFD056FFD778 FFFFFFD9", null },
        { "FFD8 FFDD00040001 FFDA0008010100003F00 12FF0034FFD056FFD778 FFFFFFD9 0000FFD8", null },
        { "FFD8 FFDD00040001 FFDA0008010100003F00 12FF0034FFD056FFD778 FFFFFF", "the data ends at byte 31 inside the entropy-coded data of scan 1 (SOS at byte 8)" },
        { "FFD8 FFDD00040001 FFDA0008010100003F00 12FF0034FFD0", "the data ends at byte 24 inside the entropy-coded data of scan 1 (SOS at byte 8)" },

        // Two scans with a DHT between them, as in a progressive JPEG.
        { "FFD8 FFDA0008010100003F00 1234 FFC400030A FFDA0008010100003F00 5678 FFD9", null },
        { "FFD8 FFDA0008010100003F00 1234 FFC400030A FFDA0008010100003F00 56", "the data ends at byte 30 inside the entropy-coded data of scan 2 (SOS at byte 19)" },
        { "FFD8 FFDA0008010100003F00 1234 FFC400030A", "the data ends at byte 19 after scan 1, before the end-of-image marker (FFD9)" },

        // Headers cut off.
        { "FFD8", "the data ends at byte 2 before the first scan (SOS)" },
        { "FFD8 FFE000040000", "the data ends at byte 8 before the first scan (SOS)" },
        { "FFD8 FF", "the data ends at byte 3 before the first scan (SOS)" },
        { "FFD8 FFDB00", "the data ends at byte 5 inside the length of the DQT marker at byte 2" },
        { "FFD8 FFFE0010616263", "the COM segment at byte 2 declares 16 bytes but only 5 remain" },
        { "FFD8 FFC0001108", "the SOF0 segment at byte 2 declares 17 bytes but only 3 remain" },

        // Not a JPEG, or a length no decoder accepts: the decoder's call, not a truncation.
        { "8950 4E47", null },
        { "FFD8 FFDB0001", null },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void Marker_walk_finds_where_the_data_ends(string hex, string? expected)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

        Assert.Equal(expected, ContainerProbe.FindJpegTruncation(bytes));
    }

    /// <summary>
    /// PIL is the reference: each JPEG (from PIL, baseline and progressive, and from ImageSharp)
    /// is cut where Python's own marker walk says, and Mage must refuse exactly what PIL refuses
    /// by default and, with the opt-in, accept exactly what PIL accepts with
    /// LOAD_TRUNCATED_IMAGES = True.
    /// </summary>
    [PythonFact]
    public void Refuses_the_cut_jpegs_PIL_refuses_and_accepts_what_PIL_accepts()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder["imagesharp-baseline.jpg"], BaselineJpeg());

        var lines = Python.Run(PillowVerdicts, folder.Path)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // 3 sources; every one has the cuts below, the progressive one also after its first scan.
        Assert.Equal((3 * 10) + 1, lines.Length);
        var mismatches = new List<string>();
        foreach (var line in lines)
        {
            var fields = line.Split('\t');
            var (file, strict, lenient) = (fields[0], fields[1], fields[2]);
            var bytes = File.ReadAllBytes(folder[file]);

            var mage = Verdict(bytes, ImageLimits.Default);
            var mageLenient = Verdict(bytes, AllowTruncated);
            if ((mage == "ok") != (strict == "ok") || (strict != "ok" && !mage.Contains("truncated JPEG", StringComparison.Ordinal)))
            {
                mismatches.Add($"{file}: PIL '{strict}', Mage '{mage}'");
            }

            if ((mageLenient == "ok") != (lenient == "ok"))
            {
                mismatches.Add($"{file} (truncated allowed): PIL '{lenient}', Mage '{mageLenient}'");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private static string Verdict(byte[] bytes, ImageLimits limits)
    {
        try
        {
            using var image = ImageLoader.Load(bytes, limits);
            return "ok";
        }
        catch (ImageDecodeException ex)
        {
            return $"{ex.Reason}: {ex.Message}";
        }
    }

    // Writes the cut files into argv[1] and prints "file<TAB>PIL default<TAB>PIL with
    // LOAD_TRUNCATED_IMAGES" for each. The marker walk is Python's own, independent of Mage's.
    private const string PillowVerdicts = """
        import io, os, sys
        import numpy as np
        from PIL import Image, ImageFile

        folder = sys.argv[1]
        y, x = np.mgrid[0:64, 0:96]
        pixels = np.stack([x * 2, y * 4, (x * 7 + y * 13) % 256], -1).astype(np.uint8)
        for name, progressive in [("pil-baseline.jpg", False), ("pil-progressive.jpg", True)]:
            Image.fromarray(pixels).save(os.path.join(folder, name), "JPEG", quality=90, progressive=progressive)

        def markers(data):
            found, i = [], 2
            while data[i + 1] != 0xD9:
                marker, length = data[i + 1], data[i + 2] << 8 | data[i + 3]
                found.append((marker, i, length))
                i += 2 + length
                if marker == 0xDA:
                    while not (data[i] == 0xFF and data[i + 1] != 0 and not 0xD0 <= data[i + 1] <= 0xD7):
                        i += 1
            return found

        def verdict(data, truncated_ok):
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
            try:
                Image.open(io.BytesIO(data)).load()
                return "ok"
            except Exception as e:
                return f"{type(e).__name__}: {e}".replace("\t", " ").replace("\n", " ")

        for source in sorted(os.listdir(folder)):
            data = open(os.path.join(folder, source), "rb").read()
            found = markers(data)
            first = lambda code: next(offset for marker, offset, _ in found if marker == code)
            sos = [(offset, length) for marker, offset, length in found if marker == 0xDA]
            cuts = {
                "in-dqt": data[:first(0xDB) + 10],
                "in-sof": data[:next(offset for marker, offset, _ in found if marker in (0xC0, 0xC2)) + 6],
                "in-sos-header": data[:sos[0][0] + 5],
                "after-sos-header": data[:sos[0][0] + 2 + sos[0][1]],
                "mid-scan": data[:len(data) // 2],
                "3-before-end": data[:-3],
                "no-eoi": data[:-2],
                "half-eoi": data[:-1],
                "whole": data,
                "trailing-junk": data + b"\0\0junk\xff\xd8\xff\xe0" * 20,
            }
            if len(sos) > 1:
                cuts["after-first-scan"] = data[:sos[1][0]]
            for case, cut in cuts.items():
                name = f"{source[:-4]}--{case}.jpg"
                open(os.path.join(folder, name), "wb").write(cut)
                print(f"{name}\t{verdict(cut, False)}\t{verdict(cut, True)}")
        """;

    /// <summary>The 64x64 pattern as ImageSharp's baseline encoder writes it at quality 90 (4:2:0).</summary>
    private static byte[] BaselineJpeg()
    {
        using var image = TestImages.Pattern(64, 64);
        image.ProcessPixelRows(a =>
        {
            // Stretch the pattern over the full range so no row of the image is black.
            for (var y = 0; y < a.Height; y++)
            {
                foreach (ref var pixel in a.GetRowSpan(y))
                {
                    pixel = new Rgb24((byte)(pixel.R * 4), (byte)(pixel.G * 4), pixel.B);
                }
            }
        });
        return TestImages.Encode(image, new JpegEncoder { Quality = 90 });
    }
}

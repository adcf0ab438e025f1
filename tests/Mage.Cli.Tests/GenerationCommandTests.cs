using Mage.Inference.Editing;
using Mage.Inference.Numpy;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Cli.Tests;

/// <summary>generate, inpaint, outpaint, uncrop and decode with the tiny model (few steps to stay fast).</summary>
public sealed class GenerationCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Generate_is_reproducible_by_seed_and_index_whatever_the_count()
    {
        var three = await Cli.RunTinyAsync("generate", "--count", "3", "--seed", "42", "--steps", "4", "--out", temp["a"], "--tokens-out", temp["a.npy"]);
        Assert.True(three.ExitCode == 0, three.ToString());
        var two = await Cli.RunTinyAsync("generate", "--count", "2", "--seed", "42", "--steps", "4", "--out", temp["b"], "--batch-size", "1");
        Assert.True(two.ExitCode == 0, two.ToString());

        Assert.Equal(["42-00000.png", "42-00001.png", "42-00002.png"], Directory.GetFiles(temp["a"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in new[] { "42-00000.png", "42-00001.png" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp["a"], name)), File.ReadAllBytes(Path.Combine(temp["b"], name)));
        }

        using var image = Image.Load<Rgb24>(Path.Combine(temp["a"], "42-00002.png"));
        Assert.Equal((256, 256), (image.Width, image.Height));
        Assert.Equal([3, 256], NpyFile.Read(temp["a.npy"]).Shape);
    }

    [Fact]
    public async Task Inpaint_box_keeps_pixels_outside_the_token_aligned_box()
    {
        var input = TestImages.SavePng(temp["in.png"], 256, 256, 3);
        var run = await Cli.RunTinyAsync("inpaint", input, "--box", "40,40,50,30", "--steps", "4", "--seed", "1", "--out", temp["out.png"], "--tokens-out", temp["t.npy"]);
        Assert.True(run.ExitCode == 0, run.ToString());

        using var before = Image.Load<Rgb24>(input);
        using var after = Image.Load<Rgb24>(temp["out.png"]);
        Assert.Equal((256, 256), (after.Width, after.Height));

        // The box covers tokens of columns 32..95 and rows 32..79 (16-pixel patches); outside, the
        // original is kept, so it may differ only by the 8-bit rounding of the float round trip.
        var changedInside = 0;
        for (var y = 0; y < 256; y++)
        {
            for (var x = 0; x < 256; x++)
            {
                var inside = x is >= 32 and < 96 && y is >= 32 and < 80;
                var (a, b) = (before[x, y], after[x, y]);
                var diff = Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B)));
                if (inside)
                {
                    changedInside += diff > 1 ? 1 : 0;
                }
                else
                {
                    Assert.True(diff <= 1, $"pixel ({x},{y}) outside the edit changed by {diff}/255");
                }
            }
        }

        Assert.True(changedInside > 0, "nothing inside the box was regenerated");
        Assert.Equal([1, 256], NpyFile.Read(temp["t.npy"]).Shape);
    }

    [Fact]
    public async Task Inpaint_mask_of_the_wrong_size_names_the_required_size()
    {
        var input = TestImages.SavePng(temp["in.png"], 300, 200, 3);
        var mask = TestImages.SavePng(temp["mask.png"], 300, 200, 4);
        var run = await Cli.RunTinyAsync("inpaint", input, "--mask", mask, "--steps", "2", "--out", temp["out.png"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(mask, run.Error);
        Assert.Contains("300x200", run.Error);
        Assert.Contains("256x256", run.Error);
        Assert.False(File.Exists(temp["out.png"]));
    }

    [Fact]
    public async Task Outpaint_output_is_the_input_plus_the_margins()
    {
        var input = TestImages.SavePng(temp["in.png"], 256, 240, 5);
        var run = await Cli.RunTinyAsync("outpaint", input, "--right", "48", "--top", "16", "--steps", "2", "--out", temp["out.png"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var after = Image.Load<Rgb24>(temp["out.png"]);
        Assert.Equal((256 + 48, 240 + 16), (after.Width, after.Height));

        // The progress total comes from the engine: every window runs all steps.
        var total = OutpaintPlan.Create(256, 240, 0, 48, 16, 0).Windows.Count * 2;
        Assert.Contains($"Outpainting: {total}/{total}", run.Error);
    }

    [Fact]
    public async Task An_outpainting_plan_the_engine_refuses_names_the_image()
    {
        var input = TestImages.SavePng(temp["small.png"], 64, 64, 6);
        var run = await Cli.RunTinyAsync("outpaint", input, "--right", "4096", "--bottom", "4096", "--steps", "2", "--out", temp["out.png"]);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"{input}: Outpainting 64x64", run.Error);
        Assert.Contains("windows; at most 256", run.Error);
        Assert.False(File.Exists(temp["out.png"]));
    }

    [Fact]
    public async Task Uncrop_writes_a_256_image_and_its_tokens()
    {
        var input = TestImages.SaveJpeg(temp["in.jpg"], 320, 240, 6);
        var run = await Cli.RunTinyAsync("uncrop", input, "--scale", "0.5", "--position", "16,32", "--steps", "2", "--deterministic", "--out", temp["out.png"], "--tokens-out", temp["t.npy"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var after = Image.Load<Rgb24>(temp["out.png"]);
        Assert.Equal((256, 256), (after.Width, after.Height));
        Assert.Equal([1, 256], NpyFile.Read(temp["t.npy"]).Shape);
    }

    [Fact]
    public async Task Decode_round_trips_tokenize_output_and_accepts_int32()
    {
        TestImages.SavePng(temp["a.png"], 256, 256, 7);
        TestImages.SaveJpeg(temp["b.jpg"], 256, 300, 8);
        var tokenize = await Cli.RunTinyAsync("tokenize", temp["a.png"], temp["b.jpg"], "--out", temp["t.npy"]);
        Assert.True(tokenize.ExitCode == 0, tokenize.ToString());

        var decode = await Cli.RunTinyAsync("decode", temp["t.npy"], "--out", temp["dec"]);
        Assert.True(decode.ExitCode == 0, decode.ToString());
        Assert.Equal(["00000.png", "00001.png"], Directory.GetFiles(temp["dec"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using (var image = Image.Load<Rgb24>(Path.Combine(temp["dec"], "00001.png")))
        {
            Assert.Equal((256, 256), (image.Width, image.Height));
        }

        // tokenize writes int64 (TokenFile); decode also takes int32. One row holds an id outside the codebook: that row is reported, the other decoded.
        var written = NpyFile.Read(temp["t.npy"]);
        Assert.Equal(NpyDType.Int64, written.DType);
        var ids = written.AsInt64().ToArray().Select(i => checked((int)i)).ToArray();
        ids[256 + 10] = 5000;
        using (var stream = File.Create(temp["t32.npy"]))
        {
            NpyFile.Write<int>(stream, ids, [2, 256]);
        }

        var partial = await Cli.RunTinyAsync("decode", temp["t32.npy"], "--out", temp["dec64"]);
        Assert.Equal(1, partial.ExitCode);
        Assert.Contains("Row 1 position 10 holds id 5000", partial.Error); // CodebookIds' one message
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp["dec"], "00000.png")), File.ReadAllBytes(Path.Combine(temp["dec64"], "00000.png")));
        Assert.False(File.Exists(Path.Combine(temp["dec64"], "00001.png")));
    }

    [Fact]
    public async Task Decode_rejects_an_array_of_the_wrong_shape()
    {
        using (var stream = File.Create(temp["f.npy"]))
        {
            NpyFile.Write<float>(stream, new float[6], [2, 3]);
        }

        var run = await Cli.RunTinyAsync("decode", temp["f.npy"], "--out", temp["dec"]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("int32 or int64 [N, 256]", run.Error);
    }
}

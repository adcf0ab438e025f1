using Mage.Inference.Decoding;
using Mage.Inference.Imaging;
using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Runtime;

/// <summary>
/// ONNX Runtime (C#) against the PyTorch outputs the exporter saved in the committed tiny
/// package's golden.npz: the independent reference for every graph.
/// </summary>
public sealed class GoldenTests : IClassFixture<TinyModelFixture>
{
    private readonly TinyModelFixture fixture;
    private readonly ITestOutputHelper output;

    public GoldenTests(TinyModelFixture fixture, ITestOutputHelper output)
    {
        this.fixture = fixture;
        this.output = output;
    }

    private MageModel Model => fixture.Model;

    private IReadOnlyDictionary<string, NpyArray> Golden => fixture.Golden;

    private int Batch => Golden["tokens"].Shape[0];

    private float[] GoldenPixels()
    {
        var images = Golden["images"];
        var pixels = new float[Batch * 3 * 256 * 256];
        var bytes = images.AsUInt8().ToArray();
        for (var b = 0; b < Batch; b++)
        {
            using var image = Image.LoadPixelData<Rgb24>(bytes.AsSpan(b * 256 * 256 * 3, 256 * 256 * 3), 256, 256);
            PixelTensor.ToChw(image, pixels.AsSpan(b * 3 * 256 * 256, 3 * 256 * 256));
        }

        return pixels;
    }

    [Fact]
    public void Tokens_match_pytorch()
    {
        var tokens = new long[Batch * 256];
        Model.Tokenize(GoldenPixels(), Batch, tokens);
        var expected = Golden["tokens"].AsInt64();
        var same = 0;
        for (var i = 0; i < tokens.Length; i++)
        {
            same += tokens[i] == expected[i] ? 1 : 0;
        }

        output.WriteLine($"token match rate {same}/{tokens.Length}");
        // Ids may differ only where two codes are (almost) exactly equally near; on this fixture none do.
        Assert.Equal(tokens.Length, same);
    }

    [Theory]
    [InlineData(FeaturePooling.Linprobe, "linprobe")]
    [InlineData(FeaturePooling.Cls, "cls")]
    [InlineData(FeaturePooling.Mean, "mean")]
    public void Features_match_pytorch(FeaturePooling pooling, string key)
    {
        var features = new float[Batch * Model.FeatureDim];
        Model.Features(Golden["tokens"].ToInt64Array(), Batch, pooling, features);
        var error = GoldenCheck.RelativeL2(features, Golden[key].AsFloat32());
        output.WriteLine($"{key}: relative L2 error {error:E2}");
        Assert.True(error <= 1e-4, $"{key} relative L2 error {error} exceeds 1e-4");
    }

    [Fact]
    public void Logits_match_pytorch()
    {
        var logits = new float[Batch * 256 * 1024];
        Model.Logits(Golden["decoder_ids"].ToInt64Array(), Batch, logits);
        var error = GoldenCheck.RelativeL2(logits, Golden["logits"].AsFloat32());
        output.WriteLine($"logits: relative L2 error {error:E2}");
        Assert.True(error <= 1e-4, $"logits relative L2 error {error} exceeds 1e-4");
    }

    [Fact]
    public void Decoded_pixels_match_pytorch()
    {
        var pixels = new float[Batch * 3 * 256 * 256];
        Model.Detokenize(Golden["tokens"].ToInt64Array(), Batch, pixels);
        var error = GoldenCheck.MaxAbs(pixels, Golden["decoded"].AsFloat32());
        output.WriteLine($"decoded: max abs error {error:E2}");
        Assert.True(error <= 1e-4, $"decoded max abs error {error} exceeds 1e-4");
    }

    [Theory]
    [InlineData("generated", null, false)]
    [InlineData("edited", "edit_ids", false)]
    [InlineData("generated", null, true)]
    [InlineData("edited", "edit_ids", true)]
    public async Task Deterministic_decoding_matches_pytorch(string key, string? idsKey, bool samplerGraph)
    {
        var steps = (int)Golden["generate_steps"].AsInt64()[0];
        var initial = idsKey is null
            ? Enumerable.Repeat(MageTokens.MaskId, 256).ToArray()
            : Golden[idsKey].ToInt64Array()[1..];
        var rows = new[] { new DecodeRow(initial, 0, 0) };
        var options = new DecodeOptions(steps, 0, Deterministic: true);
        var result = samplerGraph
            ? Model.Decode(rows, options)
            : await HostDecodeLoop.DecodeAsync(rows, options, Model.LogitsAsync);
        var expected = Golden[key].AsInt64();
        var same = 0;
        for (var i = 0; i < 256; i++)
        {
            same += result[0][i] == expected[i] ? 1 : 0;
        }

        output.WriteLine($"{key} ({(samplerGraph ? "sampler graph" : "host decoder")}): {same}/256 ids equal to PyTorch's schedule");
        Assert.Equal(256, same);
    }
}

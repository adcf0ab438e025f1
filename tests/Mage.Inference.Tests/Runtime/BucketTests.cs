using System.Text.Json;
using Mage.Inference.Decoding;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>
/// Batch buckets and warm-up on the CPU provider, whose results do not depend on the batch: padded
/// runs must give every real row what a natural run gives it, and warm-up must run each graph at
/// each bucket size (read back from ONNX Runtime's own profile).
/// </summary>
public sealed class BucketTests
{
    private const int Side = MageTokens.ImageSize;
    private const int PixelsPerImage = 3 * Side * Side;

    private static MageModel Load(string buckets, PrecisionMode precision = PrecisionMode.PyTorch, bool? warmUp = null, string? profile = null) =>
        MageModel.Load(new MageModelOptions
        {
            PackagePath = Fixtures.TinyPackage,
            Device = "cpu",
            BatchBuckets = buckets,
            Precision = precision,
            WarmUp = warmUp,
            ProfilePrefix = profile,
        });

    [Fact]
    public void Auto_buckets_are_natural_on_the_CPU_and_the_exact_mode_keeps_natural_transformer_calls()
    {
        using var auto = Load("auto");
        Assert.Empty(auto.BatchBuckets);
        Assert.Empty(auto.TransformerBuckets);

        using var exact = Load("4", PrecisionMode.Exact);
        Assert.Equal([4], exact.BatchBuckets);
        Assert.Empty(exact.TransformerBuckets);
        Assert.Equal(0, exact.FixedRows);

        using var pytorch = Load("2,4");
        Assert.Equal([2, 4], pytorch.TransformerBuckets);
        Assert.Equal(PrecisionMode.PyTorch, pytorch.Precision);
    }

    [Fact]
    public void A_bucket_list_out_of_range_fails_the_load_with_the_offending_size()
    {
        var error = Assert.Throws<InvalidRequestException>(() => Load("8,4096"));
        Assert.Contains("'4096'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Padded_runs_give_each_row_its_natural_result()
    {
        // 6 rows in buckets of 4: one full run and one run of 2 real rows + 2 padding rows.
        using var bucketed = Load("4");
        using var natural = Load("none");
        const int batch = 6;
        var random = new Random(11);
        var pixels = Enumerable.Range(0, batch * PixelsPerImage).Select(_ => random.NextSingle()).ToArray();

        var expectedTokens = new long[batch * MageTokens.Count];
        natural.Tokenize(pixels, batch, expectedTokens);
        var tokens = new long[batch * MageTokens.Count];
        bucketed.Tokenize(pixels, batch, tokens);
        Assert.Equal(expectedTokens, tokens);

        var dim = natural.FeatureDim;
        var expectedFeatures = new float[batch * dim];
        natural.Features(tokens, batch, FeaturePooling.Mean, expectedFeatures);
        var features = new float[batch * dim];
        bucketed.Features(tokens, batch, FeaturePooling.Mean, features);
        for (var r = 0; r < batch; r++)
        {
            // Pooled features vary by ~1e-7 with the batch shape on the CPU (BatchConsistencyTests).
            var error = GoldenCheck.RelativeL2(features.AsSpan(r * dim, dim), expectedFeatures.AsSpan(r * dim, dim));
            Assert.True(error <= 1e-6, $"row {r}: features differ by {error}");
        }

        var expectedPixels = new float[batch * PixelsPerImage];
        natural.Detokenize(tokens, batch, expectedPixels);
        var decoded = new float[batch * PixelsPerImage];
        bucketed.Detokenize(tokens, batch, decoded);
        Assert.True(GoldenCheck.MaxAbs(decoded, expectedPixels) <= 1e-6, "padded detokenizer runs changed the pixels");

        var ids = new long[batch * MageTokens.SequenceLength];
        for (var r = 0; r < batch; r++)
        {
            ids[r * MageTokens.SequenceLength] = MageTokens.FakeClassId;
            for (var p = 1; p < MageTokens.SequenceLength; p++)
            {
                ids[(r * MageTokens.SequenceLength) + p] = random.Next(3) == 0 ? MageTokens.MaskId : random.Next(MageTokens.CodebookSize);
            }
        }

        var expectedLogits = new float[batch * MageTokens.Count * MageTokens.CodebookSize];
        natural.Logits(ids, batch, expectedLogits);
        var logits = new float[expectedLogits.Length];
        bucketed.Logits(ids, batch, logits);
        Assert.True(expectedLogits.AsSpan().SequenceEqual(logits), "padded transformer calls changed the logits");

        var rows = Enumerable.Range(0, batch - 1)
            .Select(i => new DecodeRow(ids.AsSpan((i * MageTokens.SequenceLength) + 1, MageTokens.Count).ToArray(), Seed: 5, ImageIndex: i))
            .ToArray();
        var options = new DecodeOptions(5, 4.5, Deterministic: false);
        var reference = await HostDecodeLoop.DecodeAsync(rows, options, natural.LogitsAsync);
        Assert.Equal(reference, bucketed.Decode(rows, options));
    }

    [Fact]
    public void Warm_up_runs_every_graph_at_every_bucket_size()
    {
        using var folder = new TempFolder();
        var model = Load("2,4", warmUp: true, profile: folder["warm"]);
        model.Dispose(); // writes the profiles

        Assert.Equal([2, 4], BatchSizesSeen(folder, "tokenizer", "float", 3, Side, Side));
        Assert.Equal([2, 4], BatchSizesSeen(folder, "detokenizer", "int64", MageTokens.Count));
        Assert.Equal([2, 4], BatchSizesSeen(folder, "encoder", "int64", MageTokens.SequenceLength));
        Assert.Equal([2, 4], BatchSizesSeen(folder, "decoder", "int64", MageTokens.SequenceLength));
        Assert.Equal([2, 4], BatchSizesSeen(folder, "sampler", "int64", MageTokens.SequenceLength));
    }

    [Fact]
    public void Without_warm_up_no_graph_runs_at_load()
    {
        using var folder = new TempFolder();
        var model = Load("2,4", warmUp: false, profile: folder["cold"]);
        model.Dispose();

        Assert.Empty(BatchSizesSeen(folder, "tokenizer", "float", 3, Side, Side));
        Assert.Empty(BatchSizesSeen(folder, "decoder", "int64", MageTokens.SequenceLength));
    }

    /// <summary>
    /// The first dimensions of every input of <paramref name="elementType"/> whose other dimensions
    /// are <paramref name="rest"/>, over the kernels of one graph's ONNX Runtime profile.
    /// </summary>
    private static int[] BatchSizesSeen(TempFolder folder, string role, string elementType, params int[] rest)
    {
        var file = Directory.GetFiles(folder.Path, $"*-{role}_*.json").Single();
        using var profile = JsonDocument.Parse(File.ReadAllText(file));
        var sizes = new SortedSet<int>();
        foreach (var e in profile.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node"
                || !e.TryGetProperty("args", out var args)
                || !args.TryGetProperty("input_type_shape", out var inputs))
            {
                continue;
            }

            foreach (var input in inputs.EnumerateArray())
            {
                if (input.TryGetProperty(elementType, out var shape)
                    && shape.GetArrayLength() == rest.Length + 1
                    && shape.EnumerateArray().Skip(1).Select(d => d.GetInt32()).SequenceEqual(rest))
                {
                    sizes.Add(shape[0].GetInt32());
                }
            }
        }

        return [.. sizes];
    }
}

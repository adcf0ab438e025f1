using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Numpy;
using Mage.Inference.Runtime;
using Parquet.Serialization;

namespace Mage.Cli.Tests;

/// <summary>tokenize and embed on real files with the real tiny model.</summary>
public sealed class ImageCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A folder of PNGs and JPEGs of different sizes; returns the paths in the order the CLI must use (ordinal).</summary>
    private List<string> MakeImages(string folder, int count)
    {
        var dir = Path.Combine(temp.Path, folder);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var paths = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = Path.Combine(i % 3 == 2 ? Path.Combine(dir, "sub") : dir, $"img{i:D2}");
            paths.Add(i % 2 == 0
                ? TestImages.SavePng(name + ".png", 200 + (i * 17), 180 + (i * 11), i)
                : TestImages.SaveJpeg(name + ".jpg", 300, 256, i));
        }

        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image, and not taken from a folder");
        return [.. paths.Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Tokenize_folder_writes_int64_rows_in_the_order_of_the_index_file()
    {
        var images = MakeImages("in", 5);
        var output = temp["tokens.npy"];
        var run = await Cli.RunTinyAsync("tokenize", Path.Combine(temp.Path, "in"), "--out", output, "--batch-size", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        var tokens = NpyFile.Read(output);
        Assert.Equal(NpyDType.Int64, tokens.DType); // TokenFile: one dtype for every token file
        Assert.Equal([5, 256], tokens.Shape);
        Assert.Equal(images, File.ReadAllLines(temp["tokens.index.txt"]));

        // Row 3 is the tokens of the fourth file in the index, computed without the CLI.
        var model = MageModel.Load(new MageModelOptions { PackagePath = Cli.TinyPackage, Device = "cpu" });
        await using var engine = new MageEngine(model);
        var expected = await engine.TokenizeAsync(File.ReadAllBytes(images[3]), PreprocessMode.Square);
        Assert.Equal(expected, tokens.AsInt64().Slice(3 * 256, 256).ToArray());
        await engine.DisposeAsync();
        model.Dispose();
    }

    [Fact]
    public async Task Embed_npy_rows_equal_MageEngine_EmbedAsync_of_the_same_file()
    {
        var images = MakeImages("in", 4);
        var output = temp["emb.npy"];
        var run = await Cli.RunTinyAsync(["embed", .. images.AsEnumerable().Reverse(), "--pooling", "mean", "--normalize", "--out", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var embeddings = NpyFile.Read(output);
        Assert.Equal(NpyDType.Float32, embeddings.DType);
        Assert.Equal([4, 64], embeddings.Shape);
        var index = File.ReadAllLines(temp["emb.index.txt"]);
        Assert.Equal(images.AsEnumerable().Reverse(), index);

        var model = MageModel.Load(new MageModelOptions { PackagePath = Cli.TinyPackage, Device = "cpu" });
        await using (var engine = new MageEngine(model))
        {
            for (var row = 0; row < index.Length; row++)
            {
                var expected = await engine.EmbedAsync(File.ReadAllBytes(index[row]), new EmbedOptions(FeaturePooling.Mean, Normalize: true));
                var actual = embeddings.AsFloat32().Slice(row * 64, 64).ToArray();

                // Same graphs on the same CPU; batches of different sizes may round differently in the last bits.
                Assert.All(actual.Zip(expected.Features), p => Assert.Equal(p.Second, p.First, 1e-5f));
            }
        }

        model.Dispose();
    }

    [Fact]
    public async Task Embed_parquet_has_a_name_and_an_embedding_list_per_row()
    {
        var images = MakeImages("in", 3);
        var run = await Cli.RunTinyAsync("embed", Path.Combine(temp.Path, "in"), "--out", temp["emb.parquet"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var npy = await Cli.RunTinyAsync("embed", Path.Combine(temp.Path, "in"), "--out", temp["emb.npy"]);
        Assert.True(npy.ExitCode == 0, npy.ToString());

        await using var stream = File.OpenRead(temp["emb.parquet"]);
        var result = await ParquetSerializer.DeserializeAsync<ParquetRow>(stream);
        var rows = result.Data;
        Assert.Equal(["name", "embedding"], result.Schema.Fields.Select(f => f.Name));
        Assert.Equal("linprobe", result.CustomMetadata["mage.pooling"]);
        Assert.Equal(images, rows.Select(r => r.name));
        var reference = NpyFile.Read(temp["emb.npy"]).AsFloat32().ToArray();
        // Two separate runs: batches form differently, so the float sums may round differently
        // (observed ~2e-7 relative); the rows must still be the same embeddings in the same order.
        for (var i = 0; i < rows.Count; i++)
        {
            var expected = reference.AsSpan(i * 64, 64).ToArray();
            var actual = rows[i].embedding.ToArray();
            var diff = Math.Sqrt(expected.Zip(actual, (a, b) => (double)(a - b) * (a - b)).Sum());
            var norm = Math.Sqrt(expected.Sum(a => (double)a * a));
            Assert.True(diff <= 1e-5 * norm, $"row {i}: relative L2 difference {diff / norm}");
        }
    }

    [Fact]
    public async Task Corrupt_files_are_named_with_reasons_exit_1_and_the_rest_are_written()
    {
        var images = MakeImages("in", 8);
        var dir = Path.Combine(temp.Path, "in");
        var truncated = Path.Combine(dir, "broken.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(images[0])[..200]);
        var text = Path.Combine(dir, "text.jpg");
        File.WriteAllText(text, "this is not a JPEG");
        var missing = temp["missing.png"];

        var run = await Cli.RunTinyAsync("embed", dir, missing, "--out", temp["emb.npy"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal([8, 64], NpyFile.Read(temp["emb.npy"]).Shape);
        Assert.Equal(images, File.ReadAllLines(temp["emb.index.txt"]));
        Assert.Contains("3 of 11 inputs failed", run.Error);
        Assert.Contains($"{truncated}: ", run.Error);
        Assert.Contains("truncated", run.Error);
        Assert.Contains($"{text}: ", run.Error);
        Assert.Contains("not in a recognised image format", run.Error);
        Assert.Contains($"{missing}: no such file or folder", run.Error);
    }

    [Fact]
    public async Task Bundled_model_is_used_without_model_and_says_so()
    {
        var png = TestImages.SavePng(temp["a.png"], 256, 256, 1);
        var run = await Cli.RunAsync("tokenize", png, "--out", temp["t.npy"], "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("not meaningful", run.Error);
        Assert.Contains("tools/export/export.py --checkpoint mage-vitb.pth --arch vit-base", run.Error);

        // With --model the notice (and its export hint) is gone; the library still warns that this package is random.
        var explicitModel = await Cli.RunTinyAsync("tokenize", png, "--out", temp["t.npy"]);
        Assert.DoesNotContain("tools/export/export.py", explicitModel.Error);
        Assert.Contains("random weights", explicitModel.Error);
    }

    // Parquet.Net maps properties by name; lower-case to match the columns.
#pragma warning disable IDE1006, CA1812
    private sealed class ParquetRow
    {
        public string name { get; set; } = "";

        public List<float> embedding { get; set; } = [];
    }
#pragma warning restore IDE1006, CA1812
}

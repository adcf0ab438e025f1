using Mage.Inference.Decoding;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Inference.Tests.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Mage.Inference.Tests.Engine;

/// <summary>
/// The engine on the real tiny model: batching, generation invariants and editing guarantees,
/// once with the decoding schedule on the host and once on the device (the sampler graph, here
/// on the CPU provider).
/// </summary>
public abstract class EngineTests : IClassFixture<TinyModelFixture>, IAsyncLifetime
{
    private readonly TinyModelFixture fixture;
    private MageEngine engine = null!;

    protected EngineTests(TinyModelFixture fixture) => this.fixture = fixture;

    protected abstract DecodeLoop Loop { get; }

    public Task InitializeAsync()
    {
        engine = new MageEngine(fixture.Model, new MageEngineOptions { Loop = Loop });
        Assert.Equal(Loop == DecodeLoop.Device, engine.DecodesOnDevice);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await engine.DisposeAsync();

    /// <summary>A structured 256x256 test picture: gradients and blocks, seeded.</summary>
    internal static Image<Rgb24> Picture(int seed, int width = 256, int height = 256)
    {
        var random = new Random(seed);
        var image = new Image<Rgb24>(width, height);
        var (a, b, c) = (random.Next(1, 4), random.Next(1, 4), random.Next(256));
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)((x * a) + c), (byte)(y * b), (byte)(((x / 32) + (y / 32)) % 2 * 200));
                }
            }
        });
        return image;
    }

    private static byte[] Png(Image<Rgb24> image) => PngEncoding.Encode(image);

    [Fact]
    public async Task Embedding_equals_the_model_run_directly()
    {
        using var picture = Picture(1);
        var embedding = await engine.EmbedAsync(Png(picture), new EmbedOptions(FeaturePooling.Mean, Preprocess: PreprocessMode.None));
        var pixels = PixelTensor.ToChw(picture);
        var tokens = new long[256];
        fixture.Model.Tokenize(pixels, 1, tokens);
        var features = new float[fixture.Model.FeatureDim];
        fixture.Model.Features(tokens, 1, FeaturePooling.Mean, features);
        Assert.Equal(tokens, embedding.Tokens);
        Assert.Equal(features, embedding.Features);
        Assert.Equal((256, 256), (embedding.SourceWidth, embedding.SourceHeight));
    }

    [Fact]
    public async Task Normalized_features_have_unit_length()
    {
        using var picture = Picture(2);
        var tokens = await engine.TokenizeAsync(picture);
        var features = await engine.FeaturesAsync(tokens, FeaturePooling.Linprobe, normalize: true);
        Assert.Equal(1.0, Math.Sqrt(features.Sum(v => (double)v * v)), 5);
    }

    [Fact]
    public async Task A_bad_image_fails_alone_while_its_batch_neighbours_succeed()
    {
        var good = Enumerable.Range(0, 12).Select(i => { using var p = Picture(10 + i); return Png(p); }).ToArray();
        var truncated = good[0][..(good[0].Length / 2)];
        var tasks = good.Select(g => engine.EmbedAsync(g, sourceName: "good.png")).ToList();
        var bad = engine.EmbedAsync(truncated, sourceName: "cut.png");
        var text = engine.EmbedAsync("hello, world"u8.ToArray(), sourceName: "notes.txt");
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Equal(256, r.Tokens.Length));
        Assert.Equal(ImageDecodeFailure.Corrupt, (await Assert.ThrowsAsync<ImageDecodeException>(() => bad)).Reason);
        var e = await Assert.ThrowsAsync<ImageDecodeException>(() => text);
        Assert.Equal(ImageDecodeFailure.NotAnImage, e.Reason);
        Assert.Contains("notes.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_requests_share_batches()
    {
        var before = engine.Statistics.Tokenize;
        var pictures = Enumerable.Range(0, 24).Select(i => Picture(100 + i)).ToArray();
        try
        {
            await Task.WhenAll(pictures.Select(p => engine.TokenizeAsync(p)));
        }
        finally
        {
            foreach (var p in pictures)
            {
                p.Dispose();
            }
        }

        var after = engine.Statistics.Tokenize;
        Assert.Equal(24, after.RequestsBatched - before.RequestsBatched);
        Assert.True(after.BatchesRun - before.BatchesRun < 24, "no request shared a batch");
    }

    [Fact]
    public async Task Seeded_generation_does_not_depend_on_batch_size_or_position()
    {
        var request = new GenerateRequest(Count: 6, Seed: 42, Steps: 6);
        var together = await engine.GenerateTokensAsync(request);
        var alone = new long[6][];
        for (var i = 5; i >= 0; i--)
        {
            alone[i] = (await engine.GenerateTokensAsync(request with { Count = 1, FirstIndex = i }))[0];
        }

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(alone[i], together[i]);
        }

        Assert.NotEqual(together[0], together[1]);
        var again = await engine.GenerateTokensAsync(request);
        Assert.Equal(together, again);
        var otherSeed = await engine.GenerateTokensAsync(request with { Seed = 43 });
        Assert.NotEqual(together[0], otherSeed[0]);
    }

    [Fact]
    public async Task Seeded_generation_does_not_depend_on_the_thread_count()
    {
        using var oneThread = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu", IntraOpThreads = 1 });
        await using var single = new MageEngine(oneThread, new MageEngineOptions { Loop = Loop });
        var request = new GenerateRequest(Count: 3, Seed: 7, Steps: 5);
        Assert.Equal(await engine.GenerateTokensAsync(request), await single.GenerateTokensAsync(request));
    }

    [Fact]
    public async Task Generated_images_are_decoded_and_ids_are_codebook_ids()
    {
        var images = await engine.GenerateAsync(new GenerateRequest(Count: 2, Seed: 1, Steps: 4), progress: null);
        try
        {
            Assert.Equal([0L, 1L], images.Select(i => i.Index));
            Assert.All(images, g => Assert.Equal((256, 256), (g.Image.Width, g.Image.Height)));
            Assert.All(images, g => Assert.All(g.Tokens, t => Assert.InRange(t, 0, 1023)));
            Assert.True(images[0].Tokens.Distinct().Count() > 8, "generation collapsed onto a few ids");
        }
        finally
        {
            foreach (var g in images)
            {
                g.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4000)]
    public async Task Absurd_generation_counts_are_rejected(int count)
    {
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => engine.GenerateTokensAsync(new GenerateRequest(count == 4000 ? MageDefaults.MaxGenerateCount + 1 : 0, 1)));
        Assert.Contains("out of range", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inpainting_keeps_tokens_and_pixels_outside_the_edit(bool deterministic)
    {
        using var picture = Picture(5);
        var box = new PixelBox(64, 96, 80, 48); // token-aligned: tokens (4..8, 6..8)
        var tokens = await engine.TokenizeAsync(picture);
        var steps = new List<StepProgress>();
        using var result = await engine.InpaintAsync(picture, [box], options: new EditOptions(Steps: 6, Deterministic: deterministic, Seed: 3), progress: new SyncProgress(steps));
        var unknown = result.Unknown[0];
        Assert.Equal(5 * 3, unknown.Count);
        for (var i = 0; i < 256; i++)
        {
            if (!unknown[i])
            {
                Assert.Equal(tokens[i], result.Tokens[0][i]);
            }
        }

        Assert.Equal([1, 2, 3, 4, 5, 6], steps.Select(s => s.Done));
        Assert.All(steps, s => Assert.Equal(6, s.Total));
        var original = PixelTensor.ToChw(picture);
        var edited = PixelTensor.ToChw(result.Image);
        var changedInside = 0;
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < 256; y++)
            {
                for (var x = 0; x < 256; x++)
                {
                    var at = (c * 65536) + (y * 256) + x;
                    var inside = x >= box.X && x < box.X + box.Width && y >= box.Y && y < box.Y + box.Height;
                    if (!inside)
                    {
                        Assert.True(Math.Abs(edited[at] - original[at]) <= 1 / 255f + 1e-6, $"pixel ({x},{y}) outside the box changed");
                    }
                    else if (Math.Abs(edited[at] - original[at]) > 2 / 255f)
                    {
                        changedInside++;
                    }
                }
            }
        }

        Assert.True(changedInside > 1000, "the edit region was not regenerated");
    }

    [Fact]
    public async Task Inpainting_with_a_pixel_mask_and_dilation()
    {
        using var picture = Picture(6);
        var mask = new bool[256 * 256];
        mask[(130 * 256) + 130] = true; // one pixel -> token (8, 8)
        using var result = await engine.InpaintAsync(picture, mask, dilateTokens: 1, new EditOptions(Steps: 3, Deterministic: true));
        Assert.Equal(9, result.Unknown[0].Count);
        Assert.True(result.Unknown[0][8, 8] && result.Unknown[0][7, 7] && result.Unknown[0][9, 9]);
        await Assert.ThrowsAsync<InvalidRequestException>(() => engine.InpaintAsync(picture, new bool[256 * 256]));
    }

    [Fact]
    public async Task Outpainting_extends_the_canvas_and_keeps_the_original()
    {
        using var picture = Picture(7);
        var steps = new List<StepProgress>();
        using var result = await engine.OutpaintAsync(picture, left: 64, right: 128, top: 0, bottom: 32, new EditOptions(Steps: 3, Seed: 1), new SyncProgress(steps));
        Assert.Equal((256 + 192, 256 + 32), (result.Image.Width, result.Image.Height));
        Assert.True(result.Tokens.Count >= 2);
        using var inner = result.Image.Clone(x => x.Crop(new Rectangle(64, 0, 256, 256)));
        Assert.Equal(PixelTensor.ToChw(picture), PixelTensor.ToChw(inner));

        // Every window runs the whole schedule, and every report knows the total up front.
        var total = result.Tokens.Count * 3;
        Assert.Equal(OutpaintPlan.Create(256, 256, 64, 128, 0, 32).Windows.Count, result.Tokens.Count);
        Assert.Equal(Enumerable.Range(1, total), steps.Select(s => s.Done));
        Assert.All(steps, s => Assert.Equal(total, s.Total));
    }

    [Fact]
    public async Task Uncropping_keeps_the_placed_image_and_fills_around_it()
    {
        using var picture = Picture(8);
        var steps = new List<StepProgress>();
        using var result = await engine.UncropAsync(picture, 0.5, options: new EditOptions(Steps: 3, Deterministic: true), progress: new SyncProgress(steps));
        Assert.Equal([new StepProgress(1, 3), new StepProgress(2, 3), new StepProgress(3, 3)], steps);
        Assert.Equal(256 - 64, result.Unknown[0].Count);
        using var expected = picture.Clone(x => x.Resize(128, 128, KnownResamplers.Bicubic));
        using var placed = result.Image.Clone(x => x.Crop(new Rectangle(64, 64, 128, 128)));
        Assert.Equal(PixelTensor.ToChw(expected), PixelTensor.ToChw(placed));
        Assert.Equal((256, 256), (result.Image.Width, result.Image.Height));
    }

    [Fact]
    public async Task Operations_that_need_256_pixels_say_so()
    {
        using var small = Picture(9, 100, 80);
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => engine.TokenizeAsync(small));
        Assert.Contains("100x80", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_generation_between_steps()
    {
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress([], step => { if (step.Done == 2) { cts.Cancel(); } });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.GenerateTokensAsync(new GenerateRequest(2, 1, Steps: 10), progress, cts.Token));
    }

    [Fact]
    public async Task Generation_reports_the_total_of_all_chunks_with_every_step()
    {
        // 5 images in chunks of 2: 3 chunks of 4 steps, reported as one run of 12.
        await using var chunked = new MageEngine(fixture.Model, new MageEngineOptions { Loop = Loop, GenerateChunk = 2 });
        var steps = new List<StepProgress>();
        var tokens = await chunked.GenerateTokensAsync(new GenerateRequest(Count: 5, Seed: 3, Steps: 4, Deterministic: true), new SyncProgress(steps));
        Assert.Equal(5, tokens.Length);
        Assert.Equal(Enumerable.Range(1, 12), steps.Select(s => s.Done));
        Assert.All(steps, s => Assert.Equal(12, s.Total));
    }

    /// <summary>Reports synchronously (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
    private sealed class SyncProgress(List<StepProgress> seen, Action<StepProgress>? then = null) : IProgress<StepProgress>
    {
        public void Report(StepProgress value)
        {
            lock (seen)
            {
                seen.Add(value);
            }

            then?.Invoke(value);
        }
    }
}

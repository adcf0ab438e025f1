using System.Text.Json;
using Mage.Inference;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Numpy;
using Mage.Jobs.Hosting;
using Mage.Jobs.Requests;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Tests.Requests;

[Collection(AzuriteCollection.Name)]
public sealed class EditAndGenerateTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    private static readonly byte[] SourcePng = MageTestHost.RandomPng(9, 64, 64);

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite);
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("edit/src.png").UploadAsync(BinaryData.FromBytes(SourcePng));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Inpaint_with_boxes_writes_png_tokens_and_result_once()
    {
        var message = JsonSerializer.Serialize(new
        {
            requestId = "inp-1",
            kind = "inpaint",
            source = new { container = host.Storage.UploadsContainer, name = "edit/src.png" },
            boxes = new[] { new[] { 64, 64, 64, 64 } },
            steps = 2,
            seed = 7,
        });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Completed, outcome.Status);
        Assert.Equal("edits/inp-1/", outcome.Folder);
        Assert.Equal(["edits/inp-1/image-0.png", "edits/inp-1/result.json", "edits/inp-1/tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, "edits/inp-1/")).Order(StringComparer.Ordinal));

        // The same edit by the services' engine: the source as EditService prepares it, the message's
        // fields as engine options (temperature, blend and dilation left to their defaults).
        var engine = await GetEngineAsync();
        using var image = Prepare(engine);
        using var expected = await engine.InpaintAsync(image, [new PixelBox(64, 64, 64, 64)], 0, new EditOptions(2, MageDefaults.EditTemperature, Deterministic: false, Seed: 7, Blend: true));
        await AssertFilesAsync("edits/inp-1/", [expected.Image], expected.Tokens);
        Assert.Equal(WorkOutcome.Skipped, (await host.Get<EditService>().ProcessAsync(message)).Status);
    }

    [Fact]
    public async Task Generate_writes_count_images()
    {
        var outcome = await host.Get<GenerateService>().ProcessAsync("""{ "requestId": "gen-1", "count": 2, "seed": 3, "steps": 2, "deterministic": true }""");

        Assert.Equal(WorkOutcome.Completed, outcome.Status);
        var names = await host.ListAsync(host.Storage.ResultsContainer, "generate/gen-1/");
        Assert.Equal(["generate/gen-1/image-0.png", "generate/gen-1/image-1.png", "generate/gen-1/result.json", "generate/gen-1/tokens.npy"], names.Order(StringComparer.Ordinal));

        var engine = await GetEngineAsync();
        var expected = await engine.GenerateAsync(new GenerateRequest(2, 3, 2, MageDefaults.GenerateTemperature, Deterministic: true));
        try
        {
            await AssertFilesAsync("generate/gen-1/", [.. expected.Select(g => g.Image)], [.. expected.Select(g => g.Tokens)]);
        }
        finally
        {
            foreach (var generated in expected)
            {
                generated.Dispose();
            }
        }
    }

    [Fact]
    public async Task Outpaint_writes_what_the_engine_paints_with_the_message_margins()
    {
        var outcome = await host.Get<EditService>().ProcessAsync(JsonSerializer.Serialize(new
        {
            requestId = "out-1", kind = "outpaint", source = new { container = host.Storage.UploadsContainer, name = "edit/src.png" },
            left = 64, bottom = 32, steps = 2, seed = 11, temperature = 2.0, blend = false,
        }));

        Assert.Equal(WorkOutcome.Completed, outcome.Status);
        var engine = await GetEngineAsync();
        using var image = Prepare(engine);
        using var expected = await engine.OutpaintAsync(image, 64, 0, 0, 32, new EditOptions(2, 2.0, Deterministic: false, Seed: 11, Blend: false));
        await AssertFilesAsync("edits/out-1/", [expected.Image], expected.Tokens);
    }

    [Fact]
    public async Task Uncrop_writes_what_the_engine_paints_with_the_message_scale_and_position()
    {
        var outcome = await host.Get<EditService>().ProcessAsync(JsonSerializer.Serialize(new
        {
            requestId = "unc-1", kind = "uncrop", source = new { container = host.Storage.UploadsContainer, name = "edit/src.png" },
            scale = 0.5, position = new[] { 16, 96 }, steps = 3, deterministic = true,
        }));

        Assert.Equal(WorkOutcome.Completed, outcome.Status);
        var engine = await GetEngineAsync();
        using var image = Prepare(engine);
        using var expected = await engine.UncropAsync(image, 0.5, (16, 96), new EditOptions(3, MageDefaults.EditTemperature, Deterministic: true));
        await AssertFilesAsync("edits/unc-1/", [expected.Image], expected.Tokens);
    }

    [Theory]
    [InlineData("""{ "requestId": "g-huge", "count": 10000000 }""", "generate", "count 10000000")]
    [InlineData("""{ "requestId": "g-steps", "count": 1, "steps": 0 }""", "generate", "steps 0")]
    [InlineData("""{ "requestId": "g-temp", "count": 1, "temperature": -1 }""", "generate", "temperature -1")]
    [InlineData("""{ "requestId": "e-scale", "kind": "uncrop", "source": { "container": "uploads", "name": "a.png" }, "scale": 5 }""", "edit", "scale 5")]
    [InlineData("""{ "requestId": "e-tiny", "kind": "uncrop", "source": { "container": "uploads", "name": "a.png" }, "scale": 0.01 }""", "edit", "scale 0.01 must be at least 0.0625")]
    [InlineData("""{ "requestId": "e-kind", "kind": "paint", "source": { "container": "uploads", "name": "a.png" } }""", "edit", "kind 'paint'")]
    [InlineData("""{ "requestId": "e-trav", "kind": "inpaint", "source": { "container": "uploads", "name": "../x.png" }, "boxes": [[0,0,8,8]] }""", "edit", "'..'")]
    [InlineData("""{ "requestId": "e-both", "kind": "inpaint", "source": { "container": "uploads", "name": "a.png" } }""", "edit", "exactly one of mask")]
    [InlineData("""{ "requestId": "e-out", "kind": "outpaint", "source": { "container": "uploads", "name": "a.png" } }""", "edit", "at least one of left")]
    [InlineData("""{ "requestId": "e-gen", "kind": "generate", "source": { "container": "uploads", "name": "a.png" } }""", "edit", "kind 'generate' is not an edit")]
    [InlineData("""{ "requestId": "e-steps", "kind": "uncrop", "source": { "container": "uploads", "name": "a.png" }, "scale": 0.5, "steps": 65 }""", "edit", "steps 65 must be between 1 and 64")]
    [InlineData("""{ "requestId": "e-json", "kind": "uncrop", "steps": "12" }""", "edit", "steps: ")]
    [InlineData("""{ "requestId": "e-mask", "kind": "outpaint", "source": { "container": "uploads", "name": "a.png" }, "right": 64, "mask": { "container": "uploads", "name": "m.png" } }""", "edit", "mask is a field of kind inpaint, not of outpaint; leave out mask.")]
    [InlineData("""{ "requestId": "e-mix", "kind": "inpaint", "source": { "container": "uploads", "name": "a.png" }, "boxes": [[0,0,8,8]], "scale": 0.5, "left": 16 }""", "edit", "left is a field of kind outpaint, not of inpaint; leave out left, scale.")]
    [InlineData("""{ "requestId": "g-count", "count": "2" }""", "generate", "count: ")]
    public async Task Absurd_requests_end_in_error_json_with_the_reason(string message, string service, string reasonPart)
    {
        var outcome = service == "edit"
            ? await host.Get<EditService>().ProcessAsync(message)
            : await host.Get<GenerateService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Contains(reasonPart, outcome.Error, StringComparison.Ordinal);
        var error = await host.Container(host.Storage.ResultsContainer).GetBlobClient(outcome.Folder + "error.json").DownloadContentAsync();
        Assert.Contains(reasonPart.Replace("'", "\\u0027", StringComparison.Ordinal), error.Value.Content.ToString(), StringComparison.Ordinal);
        Assert.Equal([outcome.Folder + "error.json"], await host.ListAsync(host.Storage.ResultsContainer, outcome.Folder!));
    }

    [Fact]
    public async Task Missing_source_and_non_image_source_fail_cleanly()
    {
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("edit/text.png").UploadAsync(BinaryData.FromString("hello"));
        var missing = await host.Get<EditService>().ProcessAsync(JsonSerializer.Serialize(new
        {
            requestId = "e-missing", kind = "uncrop", scale = 0.5, source = new { container = host.Storage.UploadsContainer, name = "edit/none.png" },
        }));
        var text = await host.Get<EditService>().ProcessAsync(JsonSerializer.Serialize(new
        {
            requestId = "e-text", kind = "uncrop", scale = 0.5, source = new { container = host.Storage.UploadsContainer, name = "edit/text.png" },
        }));

        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);
        Assert.StartsWith("notAnImage: ", text.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_message_with_a_readable_request_id_fails_in_its_own_folder()
    {
        var outcome = await host.Get<EditService>().ProcessAsync("""{ "requestId": "e-own", "kind": "paint" }""");

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Equal("edits/e-own/", outcome.Folder);
        Assert.StartsWith("invalidMessage: ", outcome.Error, StringComparison.Ordinal);
        using var error = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient("edits/e-own/error.json").DownloadContentAsync()).Value.Content);
        Assert.Equal("invalidMessage", error.RootElement.GetProperty("reason").GetString());
        Assert.Equal("failed", error.RootElement.GetProperty("status").GetString());

        // A second copy finds the record and does nothing.
        Assert.Equal(WorkOutcome.Skipped, (await host.Get<EditService>().ProcessAsync("""{ "requestId": "e-own", "kind": "paint" }""")).Status);
    }

    [Fact]
    public async Task Message_without_a_request_id_goes_to_rejected()
    {
        var outcome = await host.Get<GenerateService>().ProcessAsync("[1, 2, 3]");
        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("generate/_rejected/", outcome.Folder, StringComparison.Ordinal);
    }

    private Task<MageEngine> GetEngineAsync() => host.Get<IMageEngineSource>().GetEngineAsync();

    /// <summary>The source as EditService hands it to the engine: decoded, then the default edit preprocessing.</summary>
    private static Image<Rgb24> Prepare(MageEngine engine)
    {
        using var decoded = engine.LoadImage(SourcePng, "edit/src.png");
        return ImagePreprocessor.Apply(decoded, MageDefaults.EditPreprocess);
    }

    /// <summary>
    /// tokens.npy holds the engine's token grids, one row each, and image-{i}.png exactly the engine's
    /// pixels (PNG is lossless and decoding on the CPU is repeatable for a seed, so no tolerance).
    /// </summary>
    private async Task AssertFilesAsync(string folder, IReadOnlyList<Image<Rgb24>> images, IReadOnlyList<long[]> tokens)
    {
        var results = host.Container(host.Storage.ResultsContainer);
        var written = NpyFile.Read((await results.GetBlobClient(folder + "tokens.npy").DownloadContentAsync()).Value.Content.ToStream());
        Assert.Equal([tokens.Count, 256], written.Shape);
        Assert.Equal(tokens.SelectMany(t => t), written.ToInt64Array());
        for (var i = 0; i < images.Count; i++)
        {
            using var png = Image.Load<Rgb24>((await results.GetBlobClient($"{folder}image-{i}.png").DownloadContentAsync()).Value.Content.ToArray());
            AssertSamePixels(images[i], png, $"{folder}image-{i}.png");
        }
    }

    private static void AssertSamePixels(Image<Rgb24> expected, Image<Rgb24> actual, string what)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var want = new Rgb24[expected.Width * expected.Height];
        var got = new Rgb24[want.Length];
        expected.CopyPixelDataTo(want);
        actual.CopyPixelDataTo(got);
        var differing = Enumerable.Range(0, want.Length).Where(i => want[i] != got[i]).ToList();
        Assert.True(
            differing.Count == 0,
            differing.Count == 0 ? null : $"{what}: {differing.Count} of {want.Length} pixels differ from the engine's; the first at ({differing[0] % expected.Width}, {differing[0] / expected.Width}) is {got[differing[0]]}, the engine gives {want[differing[0]]}.");
    }
}

using System.Text.Json;
using Mage.Inference.Numpy;
using Mage.Jobs.Requests;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;
using SixLabors.ImageSharp;

namespace Mage.Jobs.Tests.Requests;

[Collection(AzuriteCollection.Name)]
public sealed class EditAndGenerateTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite);
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("edit/src.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(9, 64, 64)));
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

        Assert.Equal(Outcome.Completed, outcome.Status);
        Assert.Equal("edits/inp-1/", outcome.Folder);
        var results = host.Container(host.Storage.ResultsContainer);
        Assert.Equal(["edits/inp-1/image-0.png", "edits/inp-1/result.json", "edits/inp-1/tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, "edits/inp-1/")).Order(StringComparer.Ordinal));
        using var png = Image.Load((await results.GetBlobClient("edits/inp-1/image-0.png").DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(256, png.Width);
        var tokens = NpyFile.Read((await results.GetBlobClient("edits/inp-1/tokens.npy").DownloadContentAsync()).Value.Content.ToStream());
        Assert.Equal([1, 256], tokens.Shape);
        Assert.Equal(Outcome.Skipped, (await host.Get<EditService>().ProcessAsync(message)).Status);
    }

    [Fact]
    public async Task Generate_writes_count_images()
    {
        var outcome = await host.Get<GenerateService>().ProcessAsync("""{ "requestId": "gen-1", "count": 2, "seed": 3, "steps": 2, "deterministic": true }""");

        Assert.Equal(Outcome.Completed, outcome.Status);
        var names = await host.ListAsync(host.Storage.ResultsContainer, "generate/gen-1/");
        Assert.Equal(["generate/gen-1/image-0.png", "generate/gen-1/image-1.png", "generate/gen-1/result.json", "generate/gen-1/tokens.npy"], names.Order(StringComparer.Ordinal));
        var tokens = NpyFile.Read((await host.Container(host.Storage.ResultsContainer).GetBlobClient("generate/gen-1/tokens.npy").DownloadContentAsync()).Value.Content.ToStream());
        Assert.Equal([2, 256], tokens.Shape);
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
    [InlineData("""{ "requestId": "g-count", "count": "2" }""", "generate", "count: ")]
    public async Task Absurd_requests_end_in_error_json_with_the_reason(string message, string service, string reasonPart)
    {
        var outcome = service == "edit"
            ? await host.Get<EditService>().ProcessAsync(message)
            : await host.Get<GenerateService>().ProcessAsync(message);

        Assert.Equal(Outcome.Failed, outcome.Status);
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

        Assert.Equal(Outcome.Failed, outcome.Status);
        Assert.Equal("edits/e-own/", outcome.Folder);
        Assert.StartsWith("invalidMessage: ", outcome.Error, StringComparison.Ordinal);
        using var error = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient("edits/e-own/error.json").DownloadContentAsync()).Value.Content);
        Assert.Equal("invalidMessage", error.RootElement.GetProperty("reason").GetString());
        Assert.Equal("failed", error.RootElement.GetProperty("status").GetString());

        // A second copy finds the record and does nothing.
        Assert.Equal(Outcome.Skipped, (await host.Get<EditService>().ProcessAsync("""{ "requestId": "e-own", "kind": "paint" }""")).Status);
    }

    [Fact]
    public async Task Message_without_a_request_id_goes_to_rejected()
    {
        var outcome = await host.Get<GenerateService>().ProcessAsync("[1, 2, 3]");
        Assert.Equal(Outcome.Failed, outcome.Status);
        Assert.StartsWith("generate/_rejected/", outcome.Folder, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using Azure.Storage.Blobs;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Numpy;
using Mage.Inference.Runtime;
using Mage.Jobs.Hosting;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Uploads;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Uploads;

[Collection(AzuriteCollection.Name)]
public sealed class UploadEmbeddingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync() => host = await MageTestHost.StartAsync(azurite);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Image_upload_writes_embedding_tokens_and_record_once()
    {
        var uploads = host.Container(host.Storage.UploadsContainer);
        var blob = uploads.GetBlobClient("photos/cat.png");
        var png = MageTestHost.RandomPng(1, 300, 200);
        await blob.UploadAsync(BinaryData.FromBytes(png));
        var service = host.Get<UploadEmbeddingService>();

        var first = await service.ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Completed, first.Status);
        var etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString();
        Assert.StartsWith("uploads/photos/cat.png/", first.Folder, StringComparison.Ordinal);
        var written = await host.ListAsync(host.Storage.ResultsContainer, first.Folder!);
        Assert.Equal([first.Folder + "embedding.npy", first.Folder + "record.json", first.Folder + "tokens.npy"], written.Order(StringComparer.Ordinal));

        var results = host.Container(host.Storage.ResultsContainer);
        var embedding = NpyFile.Read((await results.GetBlobClient(first.Folder + "embedding.npy").DownloadContentAsync()).Value.Content.ToStream());
        var tokens = NpyFile.Read((await results.GetBlobClient(first.Folder + "tokens.npy").DownloadContentAsync()).Value.Content.ToStream());

        // The files hold what the services' own engine computes for the same bytes with an upload's options.
        var engine = await host.Get<IMageEngineSource>().GetEngineAsync();
        var expected = await engine.EmbedAsync(png, new EmbedOptions(FeaturePooling.Linprobe, Normalize: false, MageDefaults.EmbedPreprocess), "photos/cat.png");
        Assert.Equal(NpyDType.Int64, tokens.DType);
        Assert.Equal([256], tokens.Shape);
        Assert.Equal(expected.Tokens, tokens.ToInt64Array());
        Assert.Equal(NpyDType.Float32, embedding.DType);
        Assert.Equal([expected.Features.Length], embedding.Shape);
        AssertClose(expected.Features, embedding.ToFloat32Array(), 1e-6);

        using var record = JsonDocument.Parse((await results.GetBlobClient(first.Folder + "record.json").DownloadContentAsync()).Value.Content);
        var root = record.RootElement;
        Assert.Equal("completed", root.GetProperty("status").GetString());
        Assert.Equal(etag, root.GetProperty("source").GetProperty("etag").GetString());
        Assert.Equal(300, root.GetProperty("source").GetProperty("width").GetInt32());
        Assert.Equal(64, root.GetProperty("source").GetProperty("sha256").GetString()!.Length);
        Assert.Equal("linprobe", root.GetProperty("pooling").GetString());
        Assert.Equal(embedding.Shape[0], root.GetProperty("model").GetProperty("featureDim").GetInt32());

        var before = await SnapshotAsync(results, first.Folder!);
        var second = await service.ProcessAsync(blob);
        Assert.Equal(WorkOutcome.Skipped, second.Status);
        Assert.Equal(before, await SnapshotAsync(results, first.Folder!));

        var events = await host.DrainAsync(host.Storage.EventsQueue);
        var evt = Assert.Single(events);
        using var cloudEvent = JsonDocument.Parse(evt);
        Assert.Equal("mage.upload.completed", cloudEvent.RootElement.GetProperty("type").GetString());
        Assert.Equal("1.0", cloudEvent.RootElement.GetProperty("specversion").GetString());
    }

    [Fact]
    public async Task New_version_of_a_blob_gets_its_own_folder()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("v.png");
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(2)));
        var first = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(3)), overwrite: true);
        var second = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Completed, second.Status);
        Assert.NotEqual(first.Folder, second.Folder);
    }

    [Fact]
    public async Task Text_upload_writes_error_json_and_does_not_throw()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("notes.txt");
        await blob.UploadAsync(BinaryData.FromString("this is not an image at all"));

        var outcome = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        var written = await host.ListAsync(host.Storage.ResultsContainer, outcome.Folder!);
        Assert.Equal([outcome.Folder + "error.json"], written);
        using var error = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(outcome.Folder + "error.json").DownloadContentAsync()).Value.Content);
        Assert.Equal("failed", error.RootElement.GetProperty("status").GetString());
        Assert.Equal("notAnImage", error.RootElement.GetProperty("reason").GetString()); // persisted reasons are lower camel case
        Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("message").GetString()));
        Assert.Equal(WorkOutcome.Skipped, (await host.Get<UploadEmbeddingService>().ProcessAsync(blob)).Status);
    }

    [Fact]
    public async Task Hostile_name_never_becomes_a_results_path()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("a/\u0001evil.png");
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(4)));

        var outcome = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("uploads/_invalid/", outcome.Folder, StringComparison.Ordinal);
        Assert.Contains("control character", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_upload_is_rejected_before_download()
    {
        await using var small = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Limits:MaxImageBytes"] = "100" });
        var blob = small.Container(small.Storage.UploadsContainer).GetBlobClient("big.png");
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(5)));

        var outcome = await small.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("tooLarge: ", outcome.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Each element within <paramref name="relative"/> of the largest expected magnitude: the same
    /// engine on the same input, so only float reassociation (e.g. another batch size) may differ.
    /// </summary>
    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        var tolerance = relative * expected.Max(MathF.Abs);
        var worst = Enumerable.Range(0, expected.Length).MaxBy(i => Math.Abs(expected[i] - actual[i]));
        Assert.True(
            Math.Abs(expected[worst] - actual[worst]) <= tolerance,
            $"embedding[{worst}] is {actual[worst]:R}, the engine gives {expected[worst]:R}: more than {relative} of the largest feature magnitude ({tolerance:R}) apart.");
    }

    private static async Task<List<string>> SnapshotAsync(BlobContainerClient container, string prefix)
    {
        var list = new List<string>();
        await foreach (var item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default))
        {
            list.Add($"{item.Name} {item.Properties.ETag} {item.Properties.LastModified:O}");
        }

        return list;
    }
}

using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Outputs;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Uploads;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Storage;

/// <summary>
/// Names whose results paths would not fit Azure (1,024 characters, 254 segments), and sources
/// storage refuses to read, end in error records and a normal return, never in an exception that
/// would send the message round again to the poison queue. Azurite stores names Azure would refuse
/// (it checks neither limit), so these runs show the services refuse them before storage does.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class NamesThatFitAzureTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync() => host = await MageTestHost.StartAsync(azurite);

    public async Task DisposeAsync() => await host.DisposeAsync();

    /// <summary>1,000 characters in 30 segments: an upload Azure stores, whose results folder and record.json would pass 1,024.</summary>
    public static string LongName { get; } = string.Join('/', Enumerable.Range(0, 29).Select(i => new string((char)('a' + (i % 26)), 32))) + "/" + new string('z', 39) + ".png";

    /// <summary>260 segments in 523 characters: over Azure's 254 segments.</summary>
    public static string DeepName { get; } = string.Join('/', Enumerable.Repeat("d", 259)) + "/x.png";

    [Theory]
    [InlineData(true, "is 1000 characters long; at most 969 are accepted")]
    [InlineData(false, "has 260 '/'-separated segments; at most 250 are accepted")]
    public async Task Upload_whose_results_paths_would_not_fit_gets_nameTooLong_under_its_hashed_folder(bool longName, string expected)
    {
        var name = longName ? LongName : DeepName;
        Assert.Equal(longName ? 1000 : 260, longName ? name.Length : name.Split('/').Length);
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(11)));
        var service = host.Get<UploadEmbeddingService>();

        var outcome = await service.ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        var etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString();
        Assert.Equal(ResultsLayout.UploadFolder(name, etag, nameIsValid: false), outcome.Folder);
        Assert.Equal([outcome.Folder + "error.json"], await host.ListAsync(host.Storage.ResultsContainer, "uploads/"));
        using var error = await ReadJsonAsync(outcome.Folder + "error.json");
        Assert.Equal("nameTooLong", error.RootElement.GetProperty("reason").GetString());
        Assert.Contains(expected, error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(name, error.RootElement.GetProperty("source").GetProperty("name").GetString());
        Assert.Equal(WorkOutcome.Skipped, (await service.ProcessAsync(blob)).Status);
    }

    [Fact]
    public async Task Upload_storage_refuses_to_read_gets_error_json_not_a_retry()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("cold/archived.png");
        await blob.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(12)));
        await blob.SetAccessTierAsync(AccessTier.Archive); // reads answer 409 BlobArchived, in Azurite as in Azure

        var outcome = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Equal($"invalidRequest: upload {host.Storage.UploadsContainer}/cold/archived.png cannot be read: storage answered 409 BlobArchived.", outcome.Error);
        using var error = await ReadJsonAsync(outcome.Folder + "error.json");
        Assert.Equal("invalidRequest", error.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Job_rows_too_long_for_Azure_or_refused_by_storage_fail_alone()
    {
        var uploads = host.Container(host.Storage.UploadsContainer);
        await uploads.GetBlobClient("rows/ok.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(13)));
        await uploads.GetBlobClient(DeepName).UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(14)));
        await uploads.GetBlobClient("rows/archived.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(15)));
        await uploads.GetBlobClient("rows/archived.png").SetAccessTierAsync(AccessTier.Archive);
        var tooLong = "rows/" + new string('n', 1100);

        var (_, shard) = await host.SubmitOneShardJobAsync("rows-1", "rows/ok.png", tooLong, DeepName, "rows/archived.png");
        var outcome = await host.Get<ProcessShardService>().ProcessAsync(shard);

        Assert.Equal(WorkOutcome.Committed, outcome.Status);
        var status = (await host.Get<JobStatusStore>().GetAsync("rows-1"))!.Value.Status;
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(1, status.ImagesDone);
        Assert.Equal(3, status.ImagesFailed);
        using var stream = (await host.Container(host.Storage.ResultsContainer).GetBlobClient(ResultsLayout.JobPart("jobs/rows-1/", 0)).DownloadContentAsync()).Value.Content.ToStream();
        var rows = (await ParquetTable.ReadAsync<EmbeddingRow>(stream)).ToDictionary(r => r.Name);
        Assert.Null(rows["rows/ok.png"].Error);
        Assert.Equal("nameTooLong: The blob name is 1105 characters long; at most 1024 are accepted.", rows[tooLong].Error);
        Assert.Equal("nameTooLong: The blob name has 260 '/'-separated segments; at most 254 are accepted (Azure's limit).", rows[DeepName].Error);
        Assert.Equal($"invalidRequest: image {host.Storage.UploadsContainer}/rows/archived.png cannot be read: storage answered 409 BlobArchived.", rows["rows/archived.png"].Error);
    }

    [Fact]
    public async Task Job_whose_output_prefix_is_too_long_fails_with_nameTooLong()
    {
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("p/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(16)));
        var prefix = new string('o', 1000) + "/";
        var job = JsonSerializer.Serialize(new { jobId = "long-out", source = new { container = host.Storage.UploadsContainer, prefix = "p/" }, output = new { prefix } });

        var status = await host.Get<SubmitJobService>().SubmitAsync(job);

        Assert.Equal(JobState.Failed, status!.State);
        Assert.StartsWith("nameTooLong: output.prefix: ", status.Reason, StringComparison.Ordinal);
        Assert.Contains("is 1000 characters long; at most 980 are accepted", status.Reason, StringComparison.Ordinal);
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task Edit_whose_output_prefix_is_too_long_gets_error_json_with_nameTooLong()
    {
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("e/src.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(17, 64, 64)));
        var message = JsonSerializer.Serialize(new
        {
            requestId = "e-long", kind = "uncrop", scale = 0.5, steps = 2,
            source = new { container = host.Storage.UploadsContainer, name = "e/src.png" },
            output = new { prefix = new string('o', 950) },
        });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("edits/_rejected/", outcome.Folder, StringComparison.Ordinal);
        Assert.StartsWith("nameTooLong: output.prefix: ", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("is 950 characters long; at most 928 are accepted", outcome.Error, StringComparison.Ordinal);
        using var error = await ReadJsonAsync(outcome.Folder + "error.json");
        Assert.Equal("nameTooLong", error.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Edit_whose_source_name_is_too_long_for_Azure_gets_error_json_with_nameTooLong()
    {
        var message = JsonSerializer.Serialize(new
        {
            requestId = "e-src-long", kind = "uncrop", scale = 0.5, steps = 2,
            source = new { container = host.Storage.UploadsContainer, name = new string('n', 1100) },
        });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Equal("edits/e-src-long/", outcome.Folder);
        Assert.StartsWith("nameTooLong: source.name: ", outcome.Error, StringComparison.Ordinal);
        using var error = await ReadJsonAsync(outcome.Folder + "error.json");
        Assert.Equal("nameTooLong", error.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Edit_whose_source_storage_refuses_to_read_gets_error_json()
    {
        var source = host.Container(host.Storage.UploadsContainer).GetBlobClient("e/archived.png");
        await source.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(18, 64, 64)));
        await source.SetAccessTierAsync(AccessTier.Archive);
        var message = JsonSerializer.Serialize(new
        {
            requestId = "e-archived", kind = "uncrop", scale = 0.5, steps = 2,
            source = new { container = host.Storage.UploadsContainer, name = "e/archived.png" },
        });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Equal($"invalidRequest: source {host.Storage.UploadsContainer}/e/archived.png cannot be read: storage answered 409 BlobArchived.", outcome.Error);
        using var error = await ReadJsonAsync("edits/e-archived/error.json");
        Assert.Equal("invalidRequest", error.RootElement.GetProperty("reason").GetString());
    }

    private async Task<JsonDocument> ReadJsonAsync(string name) =>
        JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(name).DownloadContentAsync()).Value.Content);
}

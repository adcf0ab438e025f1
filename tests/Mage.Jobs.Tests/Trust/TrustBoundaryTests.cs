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

namespace Mage.Jobs.Tests.Trust;

/// <summary>
/// What a caller who may only send messages can reach: the configured source and output
/// containers, never the service's own; an output nobody else holds; nothing overwritten; and only
/// events the service itself staged published.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TrustBoundaryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite);
        var uploads = host.Container(host.Storage.UploadsContainer);
        for (var i = 0; i < 3; i++)
        {
            await uploads.GetBlobClient($"pair/img-{i}.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(i)));
        }
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Theory]
    [InlineData("jobs")]
    [InlineData("models")]
    [InlineData("azure-webjobs-hosts")]
    [InlineData("unlisted")]
    [InlineData("results")]
    public async Task A_job_reading_a_container_outside_the_allow_list_is_refused_and_reads_nothing(string which)
    {
        var container = which switch
        {
            "jobs" => host.Storage.JobsContainer,
            "models" => host.Storage.ModelsContainer,
            "results" => host.Storage.ResultsContainer,
            _ => which,
        };
        await host.Container(container).CreateIfNotExistsAsync();
        await host.Container(container).GetBlobClient("pair/secret.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(5)), overwrite: true);
        var jobId = $"read-{which}";

        var status = await host.Get<SubmitJobService>().SubmitAsync(Job(jobId, container, "pair/"));

        Assert.NotNull(status);
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal($"notAllowed: source.container '{container}' is not a container this service reads from; allowed: {host.Storage.UploadsContainer}.", status.Reason);
        Assert.Equal(0, status.ImagesTotal);
        Assert.Empty(await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobShardsFolder(jobId)));
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task A_job_writing_into_the_jobs_container_is_refused_and_writes_nothing_there()
    {
        var job = JsonSerializer.Serialize(new
        {
            jobId = "into-jobs",
            source = new { container = host.Storage.UploadsContainer, prefix = "pair/" },
            output = new { container = host.Storage.JobsContainer, prefix = "jobs/victim/" },
        });

        var status = await host.Get<SubmitJobService>().SubmitAsync(job);

        Assert.Equal(JobState.Failed, status!.State);
        Assert.Equal($"notAllowed: output.container '{host.Storage.JobsContainer}' is not a container this service writes to; allowed: {host.Storage.ResultsContainer}.", status.Reason);
        Assert.Empty(await host.ListAsync(host.Storage.JobsContainer, "jobs/victim/"));
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Theory]
    [InlineData("jobs/{first}/")]
    [InlineData("jobs/{first}/nested/")]
    [InlineData("jobs/")]
    public async Task Of_two_jobs_on_overlapping_prefixes_the_second_is_refused_and_the_first_lists_exactly_its_rows(string secondPrefix)
    {
        var tag = secondPrefix.Length;
        string first = $"first-{tag}", second = $"second-{tag}";
        var submit = host.Get<SubmitJobService>();

        var a = await submit.SubmitAsync(Job(first, host.Storage.UploadsContainer, "pair/"));
        var b = await submit.SubmitAsync(Job(second, host.Storage.UploadsContainer, "pair/", secondPrefix.Replace("{first}", first, StringComparison.Ordinal)));

        Assert.Equal(JobState.Running, a!.State);
        Assert.Equal(JobState.Failed, b!.State);
        Assert.Contains("output prefix", b.Reason, StringComparison.Ordinal);
        await AssertCompletesWithItsOwnRowsAsync(first, $"jobs/{first}/", 3);
    }

    [Fact]
    public async Task Of_two_jobs_on_one_prefix_the_later_claim_is_refused_whichever_was_sent_first()
    {
        // The first job names the prefix the second would take by default: the roles of the test above, swapped.
        var submit = host.Get<SubmitJobService>();
        var a = await submit.SubmitAsync(Job("swap-a", host.Storage.UploadsContainer, "pair/", "jobs/swap-b/"));
        var b = await submit.SubmitAsync(Job("swap-b", host.Storage.UploadsContainer, "pair/"));

        Assert.Equal(JobState.Running, a!.State);
        Assert.Equal(JobState.Failed, b!.State);
        Assert.Equal($"output prefix 'jobs/swap-b/' in '{host.Storage.ResultsContainer}' belongs to job swap-a; give each job its own prefix.", b.Reason);
        await AssertCompletesWithItsOwnRowsAsync("swap-a", "jobs/swap-b/", 3);
    }

    [Fact]
    public async Task Of_two_jobs_on_one_prefix_sent_together_exactly_one_runs()
    {
        var submit = host.Get<SubmitJobService>();
        var both = await Task.WhenAll(
            submit.SubmitAsync(Job("race-a", host.Storage.UploadsContainer, "pair/", "race/out/")),
            submit.SubmitAsync(Job("race-b", host.Storage.UploadsContainer, "pair/", "race/out/")));

        var winner = Assert.Single(both, s => s!.State == JobState.Running)!;
        Assert.Single(both, s => s!.State == JobState.Failed);
        await AssertCompletesWithItsOwnRowsAsync(winner.JobId, "race/out/", 3);
    }

    [Fact]
    public async Task A_part_at_a_jobs_path_written_by_another_job_is_not_counted_as_done()
    {
        var (_, shard) = await host.SubmitOneShardJobAsync("parted", "pair/img-0.png", "pair/img-1.png");
        var results = host.Container(host.Storage.ResultsContainer);
        var planted = results.GetBlobClient(ResultsLayout.JobPart("jobs/parted/", 0));
        await planted.UploadAsync(BinaryData.FromString("not this job's"), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["jobid"] = "someone-else", ["rows"] = "2", ["failed"] = "0" } });
        var etag = (await planted.GetPropertiesAsync()).Value.ETag;

        var outcome = await host.Get<ProcessShardService>().ProcessAsync(shard);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        var status = (await host.Get<JobStatusStore>().GetAsync("parted"))!.Value.Status;
        Assert.Equal((JobState.Completed, 0, 1, 0L, 2L), (status.State, status.ShardsDone, status.ShardsFailed, status.ImagesDone, status.ImagesFailed));
        Assert.Equal(etag, (await planted.GetPropertiesAsync()).Value.ETag);
        var manifest = JsonDocument.Parse((await results.GetBlobClient(ResultsLayout.JobManifest("jobs/parted/")).DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(0, manifest.RootElement.GetProperty("parts").GetArrayLength());
    }

    [Fact]
    public async Task A_manifest_at_a_jobs_path_written_by_anyone_else_is_never_announced_as_its_completion()
    {
        var (_, shard) = await host.SubmitOneShardJobAsync("manifested", "pair/img-0.png");
        var results = host.Container(host.Storage.ResultsContainer);
        var planted = results.GetBlobClient(ResultsLayout.JobManifest("jobs/manifested/"));
        await planted.UploadAsync(BinaryData.FromString("""{ "jobId": "manifested", "parts": [] }"""));
        var etag = (await planted.GetPropertiesAsync()).Value.ETag;

        Assert.Equal(WorkOutcome.Committed, (await host.Get<ProcessShardService>().ProcessAsync(shard)).Status);

        Assert.Equal(etag, (await planted.GetPropertiesAsync()).Value.ETag);
        Assert.DoesNotContain(await host.DrainAsync(host.Storage.EventsQueue), e => e.Contains("mage.job.completed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_edit_aimed_at_an_uploads_results_is_refused_and_the_upload_files_keep_their_etags()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("pair/img-0.png");
        var upload = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);
        Assert.Equal(WorkOutcome.Completed, upload.Status);
        var before = await EtagsAsync(upload.Folder!);
        Assert.Equal(3, before.Count);
        var hash = upload.Folder!.TrimEnd('/').Split('/')[^1];
        var message = Edit(hash, new { prefix = "uploads/pair/img-0.png/" });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("notAllowed: output 'uploads/pair/img-0.png/", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(before, await EtagsAsync(upload.Folder!));
        await AssertRefusedAsync(hash, message, ErrorReason.NotAllowed);
    }

    [Fact]
    public async Task An_edit_into_a_folder_holding_someones_image_is_refused_and_the_image_is_unchanged()
    {
        var results = host.Container(host.Storage.ResultsContainer);
        var theirs = results.GetBlobClient("edits/taken/image-0.png");
        await theirs.UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(42)));
        var etag = (await theirs.GetPropertiesAsync()).Value.ETag;
        var message = Edit("taken", null);

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith("outputInUse: output folder 'edits/taken/'", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(etag, (await theirs.GetPropertiesAsync()).Value.ETag);
        Assert.Equal(["edits/taken/image-0.png"], await host.ListAsync(host.Storage.ResultsContainer, "edits/taken/"));
        await AssertRefusedAsync("taken", message, ErrorReason.OutputInUse);
    }

    [Fact]
    public async Task An_upload_whose_folder_holds_a_file_it_did_not_write_is_refused_and_the_file_is_unchanged()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("pair/img-2.png");
        var etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString();
        var folder = ResultsLayout.UploadFolder(blob.Name, etag, nameIsValid: true);
        var planted = host.Container(host.Storage.ResultsContainer).GetBlobClient(ResultsLayout.UploadEmbedding(folder));
        await planted.UploadAsync(BinaryData.FromString("someone's"));
        var plantedEtag = (await planted.GetPropertiesAsync()).Value.ETag;

        var outcome = await host.Get<UploadEmbeddingService>().ProcessAsync(blob);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith($"outputInUse: {host.Storage.ResultsContainer}/{planted.Name} already exists", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(plantedEtag, (await planted.GetPropertiesAsync()).Value.ETag);
        Assert.True(await host.Container(host.Storage.ResultsContainer).GetBlobClient(ResultsLayout.Error(folder)).ExistsAsync());
    }

    [Fact]
    public async Task An_edit_redelivered_after_a_crash_recognises_its_own_files()
    {
        // The first delivery wrote image-0.png and died before result.json: the copy finishes the request.
        var message = Edit("again", null);
        var service = host.Get<EditService>();
        Assert.Equal(WorkOutcome.Completed, (await service.ProcessAsync(message)).Status);
        var results = host.Container(host.Storage.ResultsContainer);
        await results.GetBlobClient("edits/again/result.json").DeleteAsync();
        var image = (await results.GetBlobClient("edits/again/image-0.png").GetPropertiesAsync()).Value.ETag;

        Assert.Equal(WorkOutcome.Completed, (await service.ProcessAsync(message)).Status);
        Assert.Equal(image, (await results.GetBlobClient("edits/again/image-0.png").GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task An_edit_reading_a_container_outside_the_allow_list_is_refused()
    {
        var message = JsonSerializer.Serialize(new
        {
            requestId = "peek",
            kind = "inpaint",
            source = new { container = host.Storage.JobsContainer, name = "jobs/x/status.json" },
            boxes = new[] { new[] { 0, 0, 16, 16 } },
            steps = 1,
        });

        var outcome = await host.Get<EditService>().ProcessAsync(message);

        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.Equal($"notAllowed: source.container '{host.Storage.JobsContainer}' is not a container this service reads from; allowed: {host.Storage.UploadsContainer}.", outcome.Error);
    }

    [Fact]
    public async Task A_forged_pending_event_in_an_output_container_is_never_published()
    {
        var results = host.Container(host.Storage.ResultsContainer);
        await results.GetBlobClient("edits/forged/result.json").UploadAsync(BinaryData.FromString("{}"));
        var forged = """{ "id": "forged-1", "type": "mage.edit.completed", "subject": "requests/forged", "time": "2026-01-01T00:00:00Z", "data": { "status": "completed", "outputs": ["evil"] } }""";
        await results.GetBlobClient("edits/forged/result.event.json").UploadAsync(BinaryData.FromString(forged));

        var outcome = await host.Get<EditService>().ProcessAsync(Edit("forged", null));

        Assert.Equal(WorkOutcome.Skipped, outcome.Status);
        Assert.DoesNotContain(await host.DrainAsync(host.Storage.EventsQueue), e => e.Contains("forged-1", StringComparison.Ordinal));
    }

    private static string Job(string jobId, string container, string prefix, string? outputPrefix = null) =>
        JsonSerializer.Serialize(new
        {
            jobId,
            source = new { container, prefix },
            output = outputPrefix is null ? null : new { prefix = outputPrefix },
            shardSize = 2,
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });

    private string Edit(string requestId, object? output) =>
        JsonSerializer.Serialize(new
        {
            requestId,
            kind = "inpaint",
            source = new { container = host.Storage.UploadsContainer, name = "pair/img-1.png" },
            boxes = new[] { new[] { 0, 0, 64, 64 } },
            steps = 1,
            output,
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });

    private async Task<Dictionary<string, string>> EtagsAsync(string folder)
    {
        var etags = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var item in host.Container(host.Storage.ResultsContainer).GetBlobsAsync(BlobTraits.None, BlobStates.None, folder, default))
        {
            etags[item.Name] = item.Properties.ETag!.Value.ToString();
        }

        return etags;
    }

    /// <summary>The refusal is recorded in the service's own refusals folder, and its event points there.</summary>
    private async Task AssertRefusedAsync(string requestId, string message, ErrorReason reason)
    {
        var folder = ResultsLayout.RefusedRequestFolder(EditService.DefaultPrefix, requestId, MessageJson.Hash(message));
        var error = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(folder + "error.json").DownloadContentAsync()).Value.Content.ToString());
        Assert.Equal(Inference.WireNames.Of(reason), error.RootElement.GetProperty("reason").GetString());
        var published = Assert.Single(await host.DrainAsync(host.Storage.EventsQueue), e => e.Contains("mage.edit.failed", StringComparison.Ordinal));
        Assert.Contains(folder + "error.json", published, StringComparison.Ordinal);
    }

    /// <summary>Runs every queued shard; the job completes with a manifest of exactly its own parts and rows, and its completion event.</summary>
    private async Task AssertCompletesWithItsOwnRowsAsync(string jobId, string prefix, int images)
    {
        var shards = host.Get<ProcessShardService>();
        foreach (var message in await host.DrainAsync(host.Storage.ShardsQueue))
        {
            await shards.ProcessAsync(message);
        }

        var results = host.Container(host.Storage.ResultsContainer);
        var manifest = JsonDocument.Parse((await results.GetBlobClient(ResultsLayout.JobManifest(prefix)).DownloadContentAsync()).Value.Content.ToString()).RootElement;
        Assert.Equal(jobId, manifest.GetProperty("jobId").GetString());
        var names = new List<string>();
        foreach (var part in manifest.GetProperty("parts").EnumerateArray())
        {
            var blob = results.GetBlobClient(part.GetProperty("name").GetString());
            Assert.Equal(jobId, (await blob.GetPropertiesAsync()).Value.Metadata["jobid"]);
            using var stream = (await blob.DownloadContentAsync()).Value.Content.ToStream();
            names.AddRange((await ParquetTable.ReadAsync<EmbeddingRow>(stream)).Select(r => r.Name!));
        }

        Assert.Equal(Enumerable.Range(0, images).Select(i => $"pair/img-{i}.png"), names.Order(StringComparer.Ordinal));
        Assert.Contains(await host.DrainAsync(host.Storage.EventsQueue), e => e.Contains("mage.job.completed", StringComparison.Ordinal) && e.Contains(jobId, StringComparison.Ordinal));
    }
}

using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.BulkJobs;

[Collection(AzuriteCollection.Name)]
public sealed class BadJobTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?>
        {
            ["Mage:Limits:MaxImagesPerJob"] = "50",
            ["Mage:Storage:SourceContainers"] = "{uploads},abc,does-not-exist-here",
        });
        var uploads = host.Container(host.Storage.UploadsContainer);
        await Parallel.ForEachAsync(Enumerable.Range(0, 60), async (i, ct) =>
            await uploads.GetBlobClient($"many/{i:D3}.png").UploadAsync(BinaryData.FromString("x"), ct));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    public static TheoryData<string, string, string> Rejections => new()
    {
        { "types", """{ "jobId": "types", "source": { "container": "c-x", "prefix": 5 } }""", "not valid" },
        { "unknown-pooling", """{ "jobId": "unknown-pooling", "source": { "container": "abc", "prefix": "p/" }, "pooling": "max" }""", "pooling 'max'" },
        { "traversal", """{ "jobId": "traversal", "source": { "container": "abc", "blobs": ["ok.png", "../../etc/passwd"] } }""", "'..'" },
        { "bad-prefix", """{ "jobId": "bad-prefix", "source": { "container": "abc", "prefix": "a/../b/" } }""", "'..'" },
        { "bad-container", """{ "jobId": "bad-container", "source": { "container": "Not_Valid", "prefix": "" } }""", "container name" },
        { "shard-size", """{ "jobId": "shard-size", "source": { "container": "abc", "prefix": "" }, "shardSize": 100000 }""", "shardSize 100000" },
        { "extra-field", """{ "jobId": "extra-field", "source": { "container": "abc", "prefix": "" }, "surprise": 1 }""", "not valid" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task Invalid_job_ends_failed_with_reason(string jobId, string message, string reasonPart)
    {
        var status = await host.Get<SubmitJobService>().SubmitAsync(message);

        Assert.NotNull(status);
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains(reasonPart, status.Reason, StringComparison.Ordinal);
        var stored = (await host.Get<JobStatusStore>().GetAsync(jobId))!.Value.Status;
        Assert.Equal(JobState.Failed, stored.State);
        await AssertNoGarbageAsync(jobId);
    }

    [Fact]
    public async Task Invalid_json_without_job_id_is_recorded_as_rejected()
    {
        Assert.Null(await host.Get<SubmitJobService>().SubmitAsync("{ this is not json"));
        var rejected = await host.ListAsync(host.Storage.JobsContainer, "rejected/");
        Assert.Single(rejected);
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task Zero_images_fails_with_no_images()
    {
        var status = await Submit("empty", new { container = host.Storage.UploadsContainer, prefix = "nothing-here/" });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("no images", status.Reason, StringComparison.Ordinal);
        await AssertNoGarbageAsync("empty");
    }

    [Fact]
    public async Task Prefix_over_the_image_limit_fails_with_the_count_and_leaves_no_shards()
    {
        var status = await Submit("too-many", new { container = host.Storage.UploadsContainer, prefix = "many/" }, shardSize: 8);
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("60 blobs", status.Reason, StringComparison.Ordinal);
        Assert.Contains("at most 50", status.Reason, StringComparison.Ordinal);
        await AssertNoGarbageAsync("too-many");
    }

    [Fact]
    public async Task Blob_list_over_the_image_limit_is_refused()
    {
        var names = Enumerable.Range(0, 51).Select(i => $"many/{i:D3}.png").ToArray();
        var status = await Submit("list-too-many", new { container = host.Storage.UploadsContainer, blobs = names });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("51 images", status.Reason, StringComparison.Ordinal);
        await AssertNoGarbageAsync("list-too-many");
    }

    [Fact]
    public async Task Missing_source_container_fails()
    {
        var status = await Submit("no-container", new { container = "does-not-exist-here", prefix = "" });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("does not exist", status.Reason, StringComparison.Ordinal);
        await AssertNoGarbageAsync("no-container");
    }

    [Fact]
    public async Task Bad_copy_of_an_existing_job_id_does_not_touch_the_job()
    {
        var good = await Submit("keep-me", new { container = host.Storage.UploadsContainer, blobs = new[] { "many/001.png" } });
        Assert.Equal(JobState.Running, good.State);
        var after = await host.Get<SubmitJobService>().SubmitAsync("""{ "jobId": "keep-me", "source": 42 }""");
        Assert.Equal(JobState.Running, after!.State);
        Assert.Single(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task Malformed_shard_messages_are_ignored()
    {
        var shards = host.Get<ProcessShardService>();
        Assert.Equal(WorkOutcome.Ignored, (await shards.ProcessAsync("nonsense")).Status);
        Assert.Equal(WorkOutcome.Ignored, (await shards.ProcessAsync("""{ "jobId": "../x", "shard": 0 }""")).Status);
        Assert.Equal(WorkOutcome.Ignored, (await shards.ProcessAsync("""{ "jobId": "unknown-job", "shard": 0 }""")).Status);
    }

    [Fact]
    public async Task Http_submit_validates_and_enqueues_and_status_is_served()
    {
        var api = host.Get<JobApiService>();
        var bad = await api.SubmitAsync("""{ "jobId": "h1", "source": { "container": "abc", "prefix": "" }, "pooling": "nope" }""", ApiCaller.Key, "c1");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.Status);
        Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));

        var body = JsonSerializer.Serialize(new { jobId = "h2", source = new { container = host.Storage.UploadsContainer, prefix = "many/" } });
        var accepted = await api.SubmitAsync(body, ApiCaller.Key, "c2");
        Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("jobs/h2", accepted.Location);
        var message = Assert.Single(await host.DrainAsync(host.Storage.JobsQueue));
        Assert.Equal("{\"caller\":\"key\"," + body[1..], message);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetStatusAsync("h2", ApiCaller.Key, "c3")).Status);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await api.GetStatusAsync("a/b", ApiCaller.Key, "c4")).Status);
        await host.Get<SubmitJobService>().SubmitAsync(message);
        var found = await api.GetStatusAsync("h2", ApiCaller.Key, "c5");
        Assert.Equal(System.Net.HttpStatusCode.OK, found.Status);
        Assert.Equal(JobState.Failed, Assert.IsType<JobStatus>(found.Body).State); // 60 > 50
    }

    private async Task<JobStatus> Submit(string jobId, object source, int shardSize = 16)
    {
        var status = await host.Get<SubmitJobService>().SubmitAsync(JsonSerializer.Serialize(new { jobId, source, shardSize }));
        Assert.NotNull(status);
        return status;
    }

    private async Task AssertNoGarbageAsync(string jobId)
    {
        Assert.Equal([ResultsLayout.JobStatus(jobId)], await host.ListAsync(host.Storage.JobsContainer, $"jobs/{jobId}/"));
        Assert.Empty(await host.ListAsync(host.Storage.ResultsContainer, $"jobs/{jobId}/"));
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }
}

using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Uploads;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Coordination;

/// <summary>
/// A worker that dies after committing a record but before publishing its event (simulated by a
/// publisher that fails once): the message is retried, and the retry publishes the event from the
/// outbox exactly once, with the id a normal run gives it; later copies publish nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EventOutboxTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    private CrashingEventPublisher Publisher => host.Get<CrashingEventPublisher>();

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, services: CrashingEventPublisher.Install);
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("set/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(21)));
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("set/b.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(22)));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Upload_event_lost_in_a_crash_is_published_once_by_the_retry()
    {
        var uploads = host.Container(host.Storage.UploadsContainer);
        var blob = uploads.GetBlobClient("set/a.png");
        var etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString();
        var folder = ResultsLayout.UploadFolder("set/a.png", etag, nameIsValid: true);

        await AssertPublishedOnceAcrossACrashAsync(
            () => host.Get<UploadEmbeddingService>().ProcessAsync(blob),
            host.Storage.ResultsContainer,
            folder + "record.json",
            MageEventTypes.UploadCompleted,
            IdOf(MageEventTypes.UploadCompleted, $"{uploads.Name}/set/a.png", etag));

        Assert.Equal([folder + "embedding.npy", folder + "record.json", folder + "tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, folder)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Upload_listed_again_while_its_committer_publishes_is_not_published_twice()
    {
        // The chaos suite's storm: a second worker listing the uploads found the record committed and
        // the outbox not yet cleared, and published the event the committer was still publishing.
        var uploads = host.Container(host.Storage.UploadsContainer);
        var blob = uploads.GetBlobClient("set/b.png");
        var etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString();
        var service = host.Get<UploadEmbeddingService>();
        var (held, release) = Publisher.HoldNextPublish();

        var committer = service.ProcessAsync(blob);
        await held.WaitAsync(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAsync<WorkClaimedException>(() => service.ProcessAsync(blob));
        release.SetResult();
        Assert.Equal(WorkOutcome.Completed, (await committer).Status);

        await AssertPublishedOnceAsync(MageEventTypes.UploadCompleted, IdOf(MageEventTypes.UploadCompleted, $"{uploads.Name}/set/b.png", etag));
        Assert.Equal(WorkOutcome.Skipped, (await service.ProcessAsync(blob)).Status);
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));
    }

    [Fact]
    public async Task Generation_event_lost_in_a_crash_is_published_once_by_the_retry()
    {
        const string folder = "generate/gen-crash/";

        await AssertPublishedOnceAcrossACrashAsync(
            () => host.Get<GenerateService>().ProcessAsync("""{ "requestId": "gen-crash", "count": 1, "seed": 5, "steps": 2, "deterministic": true }"""),
            host.Storage.ResultsContainer,
            folder + "result.json",
            MageEventTypes.GenerateCompleted,
            IdOf(MageEventTypes.GenerateCompleted, "requests/gen-crash", folder));

        Assert.Equal([folder + "image-0.png", folder + "result.json", folder + "tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, folder)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Job_completion_lost_in_a_crash_is_published_once_by_the_redelivered_shard()
    {
        var (job, shard) = await host.SubmitOneShardJobAsync("crash-1", "set/a.png", "set/b.png");

        await AssertPublishedOnceAcrossACrashAsync(
            () => host.Get<ProcessShardService>().ProcessAsync(shard),
            host.Storage.ResultsContainer,
            "jobs/crash-1/manifest.json",
            MageEventTypes.JobCompleted,
            IdOf(MageEventTypes.JobCompleted, "jobs/crash-1", "crash-1"));

        Assert.Equal(["jobs/crash-1/job.json", "jobs/crash-1/manifest.json", "jobs/crash-1/out/part-000000.parquet"], (await host.ListAsync(host.Storage.ResultsContainer, "jobs/crash-1/")).Order(StringComparer.Ordinal));
        await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));
    }

    [Fact]
    public async Task Job_failure_lost_in_a_crash_is_published_once_by_the_redelivered_bad_message()
    {
        await AssertPublishedOnceAcrossACrashAsync(
            () => host.Get<SubmitJobService>().SubmitAsync("""{ "jobId": "bad-crash", "source": { "container": "abc", "prefix": "" }, "pooling": "max" }"""),
            host.Storage.JobsContainer,
            "jobs/bad-crash/status.json",
            MageEventTypes.JobFailed,
            IdOf(MageEventTypes.JobFailed, "jobs/bad-crash", "failed"));

        Assert.Equal(JobState.Failed, (await host.Get<JobStatusStore>().GetAsync("bad-crash"))!.Value.Status.State);
        Assert.Equal(["jobs/bad-crash/status.json"], await host.ListAsync(host.Storage.JobsContainer, "jobs/bad-crash/"));
    }

    [Fact]
    public async Task Job_that_fails_while_listing_publishes_its_failure_once_across_redeliveries()
    {
        var message = JsonSerializer.Serialize(new { jobId = "empty-1", source = new { container = host.Storage.UploadsContainer, prefix = "nothing/" } });
        var submit = host.Get<SubmitJobService>();

        for (var delivery = 0; delivery < 3; delivery++)
        {
            Assert.Equal(JobState.Failed, (await submit.SubmitAsync(message))!.State);
        }

        await AssertPublishedOnceAsync(MageEventTypes.JobFailed, IdOf(MageEventTypes.JobFailed, "jobs/empty-1", "failed"));
        Assert.Equal(["jobs/empty-1/status.json"], await host.ListAsync(host.Storage.JobsContainer, "jobs/empty-1/"));
    }

    /// <summary>The id every copy of an event must carry: it depends only on type, subject and version key.</summary>
    private static string IdOf(string type, string subject, string versionKey) =>
        MageEvent.Create(type, subject, versionKey, new MageEventData(null, null, RecordStatus.Completed, []), DateTimeOffset.UnixEpoch).Id;

    /// <summary>
    /// Delivers a message three times: the first dies after committing <paramref name="record"/>
    /// but before publishing (the record exists, nothing was published, the event waits in the
    /// outbox blob in the jobs container); the second publishes that event once, with the expected
    /// id, and removes the outbox blob; the third publishes nothing.
    /// </summary>
    private async Task AssertPublishedOnceAcrossACrashAsync(Func<Task> deliver, string container, string record, string type, string expectedId)
    {
        var blobs = host.Container(container);
        var outbox = host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.Outbox(container, record));

        Publisher.CrashOnNextPublish();
        await Assert.ThrowsAsync<InvalidOperationException>(deliver);
        Assert.True(await blobs.GetBlobClient(record).ExistsAsync(), $"{record} should be committed before the publish.");
        Assert.True(await outbox.ExistsAsync(), $"{outbox.Name} should hold the unpublished event.");
        using (var staged = JsonDocument.Parse((await outbox.DownloadContentAsync()).Value.Content))
        {
            Assert.Equal(expectedId, staged.RootElement.GetProperty("id").GetString());
        }

        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));

        await deliver();
        await AssertPublishedOnceAsync(type, expectedId);
        Assert.False(await outbox.ExistsAsync(), $"{outbox.Name} should be gone once published.");

        await deliver();
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));
    }

    private async Task AssertPublishedOnceAsync(string type, string expectedId)
    {
        var published = Assert.Single(await host.DrainAsync(host.Storage.EventsQueue));
        using var cloudEvent = JsonDocument.Parse(published);
        Assert.Equal(type, cloudEvent.RootElement.GetProperty("type").GetString());
        Assert.Equal(expectedId, cloudEvent.RootElement.GetProperty("id").GetString());
    }
}

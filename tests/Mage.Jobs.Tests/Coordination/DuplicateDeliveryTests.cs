using System.Text.Json;
using Azure.Storage.Blobs.Specialized;
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
/// Copies of one message delivered at the same time: the work is claimed before it is done, so it
/// is done once and the other copies neither redo it nor lose it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DuplicateDeliveryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    private CountingEngineSource Engine => host.Get<CountingEngineSource>();

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, services: CountingEngineSource.Install);
        var uploads = host.Container(host.Storage.UploadsContainer);
        await uploads.GetBlobClient("edit/src.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(9, 64, 64)));
        await uploads.GetBlobClient("set/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(21)));
        await uploads.GetBlobClient("set/b.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(22)));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Job_message_delivered_five_times_at_once_enqueues_each_shard_once()
    {
        const int shards = 8;
        var job = JsonSerializer.Serialize(new
        {
            jobId = "dup-1",
            source = new { container = host.Storage.UploadsContainer, blobs = Enumerable.Range(0, shards * 2).Select(i => $"set/{i:D2}.png") },
            shardSize = 2,
        });
        var submit = host.Get<SubmitJobService>();

        var copies = await DeliverTogetherAsync(5, async () => (await submit.SubmitAsync(job))!.State);
        Assert.Contains(copies, c => c is not null);

        var enqueued = (await host.DrainAsync(host.Storage.ShardsQueue)).Select(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard).Order().ToList();
        Assert.Equal(Enumerable.Range(0, shards), enqueued);
        var status = (await host.Get<JobStatusStore>().GetAsync("dup-1"))!.Value.Status;
        Assert.Equal((JobState.Running, shards, true), (status.State, status.ShardsTotal, status.Enqueued));
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));
        Assert.Equal(
            ["jobs/dup-1/shards/000000.json", "jobs/dup-1/shards/000001.json", "jobs/dup-1/shards/000002.json", "jobs/dup-1/shards/000003.json",
             "jobs/dup-1/shards/000004.json", "jobs/dup-1/shards/000005.json", "jobs/dup-1/shards/000006.json", "jobs/dup-1/shards/000007.json",
             "jobs/dup-1/status.json"],
            (await host.ListAsync(host.Storage.JobsContainer, "jobs/dup-1/")).Order(StringComparer.Ordinal));

        // A later copy, after the claim is freed, finds the job running and enqueues nothing.
        Assert.Equal(JobState.Running, (await submit.SubmitAsync(job))!.State);
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task Job_message_whose_claim_a_dead_delivery_holds_is_retried_not_dropped()
    {
        // A worker that died mid-listing leaves the claim leased until it lapses; its own message comes back first.
        var job = JsonSerializer.Serialize(new
        {
            jobId = "dup-dead",
            source = new { container = host.Storage.UploadsContainer, blobs = new[] { "set/a.png", "set/b.png" } },
            shardSize = 1,
        });
        var marker = host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobClaim("dup-dead"));
        await marker.UploadAsync(BinaryData.Empty);
        var deadHolder = marker.GetBlobLeaseClient();
        await deadHolder.AcquireAsync(TimeSpan.FromSeconds(60));
        var submit = host.Get<SubmitJobService>();

        var busy = await Assert.ThrowsAsync<WorkClaimedException>(() => submit.SubmitAsync(job));
        Assert.Contains("dup-dead", busy.Message, StringComparison.Ordinal);
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));

        // The lease lapses (broken here rather than waited for): the retry lists and enqueues the job.
        await deadHolder.BreakAsync(TimeSpan.Zero);
        Assert.Equal(JobState.Running, (await submit.SubmitAsync(job))!.State);
        var enqueued = (await host.DrainAsync(host.Storage.ShardsQueue)).Select(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard).Order();
        Assert.Equal([0, 1], enqueued);
    }

    [Fact]
    public async Task Edit_delivered_twice_at_once_is_computed_once_and_the_busy_copy_is_retried()
    {
        var message = JsonSerializer.Serialize(new
        {
            requestId = "dup-edit",
            kind = "inpaint",
            source = new { container = host.Storage.UploadsContainer, name = "edit/src.png" },
            boxes = new[] { new[] { 64, 64, 64, 64 } },
            steps = 2,
            seed = 7,
        });
        var edits = host.Get<EditService>();

        var copies = await DeliverTogetherAsync(2, async () => (await edits.ProcessAsync(message)).Status);

        Assert.Equal(1, Engine.Computations);
        Assert.Single(copies, WorkOutcome.Completed);
        Assert.All(copies, c => Assert.True(c is WorkOutcome.Completed or WorkOutcome.Skipped or null, $"unexpected outcome {c}"));
        Assert.Equal(["edits/dup-edit/image-0.png", "edits/dup-edit/result.json", "edits/dup-edit/tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, "edits/dup-edit/")).Order(StringComparer.Ordinal));
        Assert.Equal([MageEventTypes.EditCompleted], await EventTypesAsync());

        // The retry of a busy copy finds the result.
        Assert.Equal(WorkOutcome.Skipped, (await edits.ProcessAsync(message)).Status);
        Assert.Equal(1, Engine.Computations);
    }

    [Fact]
    public async Task Shard_delivered_twice_at_once_is_embedded_once()
    {
        var (_, shard) = await host.SubmitOneShardJobAsync("dup-shard", "set/a.png", "set/b.png");
        var shards = host.Get<ProcessShardService>();

        var copies = await DeliverTogetherAsync(2, async () => (await shards.ProcessAsync(shard)).Status);

        Assert.Equal(1, Engine.Computations);
        Assert.Single(copies, WorkOutcome.Committed);
        Assert.All(copies, c => Assert.True(c is WorkOutcome.Committed or WorkOutcome.AlreadyCounted or WorkOutcome.AlreadyCommitted or null, $"unexpected outcome {c}"));
        Assert.Equal(["jobs/dup-shard/shards/000000.json", "jobs/dup-shard/status.json"], (await host.ListAsync(host.Storage.JobsContainer, "jobs/dup-shard/")).Order(StringComparer.Ordinal));
        Assert.Equal([MageEventTypes.JobCompleted], await EventTypesAsync());
    }

    [Fact]
    public async Task Upload_delivered_three_times_at_once_is_embedded_once()
    {
        var blob = host.Container(host.Storage.UploadsContainer).GetBlobClient("set/a.png");
        var folder = ResultsLayout.UploadFolder("set/a.png", (await blob.GetPropertiesAsync()).Value.ETag.ToString(), nameIsValid: true);
        var uploads = host.Get<UploadEmbeddingService>();

        var copies = await DeliverTogetherAsync(3, async () => (await uploads.ProcessAsync(blob)).Status);

        Assert.Equal(1, Engine.Computations);
        Assert.Single(copies, WorkOutcome.Completed);
        Assert.All(copies, c => Assert.True(c is WorkOutcome.Completed or WorkOutcome.Skipped or null, $"unexpected outcome {c}"));

        // The retry of a busy copy finds the record.
        Assert.Equal(WorkOutcome.Skipped, (await uploads.ProcessAsync(blob)).Status);
        Assert.Equal([folder + "embedding.npy", folder + "record.json", folder + "tokens.npy"], (await host.ListAsync(host.Storage.ResultsContainer, folder)).Order(StringComparer.Ordinal));
        Assert.Equal([MageEventTypes.UploadCompleted], await EventTypesAsync());
    }

    /// <summary>Runs <paramref name="copies"/> deliveries at once; a copy that found the work claimed reports null (its host retries it).</summary>
    private static Task<T?[]> DeliverTogetherAsync<T>(int copies, Func<Task<T>> deliver)
        where T : struct =>
        Task.WhenAll(Enumerable.Range(0, copies).Select(_ => Task.Run(async () =>
        {
            try
            {
                return (T?)await deliver();
            }
            catch (WorkClaimedException)
            {
                return null;
            }
        })));

    private async Task<List<string?>> EventTypesAsync() =>
        [.. (await host.DrainAsync(host.Storage.EventsQueue)).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("type").GetString())];
}

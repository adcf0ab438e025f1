using System.Text.Json;
using Mage.Functions.Tests.Infrastructure;
using Mage.Jobs.Services;

namespace Mage.Functions.Tests;

/// <summary>
/// Copies of one message delivered at the same time: the work is claimed before it is done, so it
/// is done once and the other copies neither redo it nor lose it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DuplicateDeliveryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync() => host = await MageTestHost.StartAsync(azurite);

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

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => submit.SubmitAsync(job))));

        var enqueued = (await host.DrainAsync(host.Storage.ShardsQueue)).Select(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard).Order().ToList();
        Assert.Equal(Enumerable.Range(0, shards), enqueued);
        var status = (await host.Get<Mage.Jobs.Storage.JobStatusStore>().GetAsync("dup-1"))!.Value.Status;
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
}

using System.Net;
using System.Text.Json;
using Azure.Core;
using Azure.Storage.Blobs;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Mage.Jobs.Tests.BulkJobs;

/// <summary>
/// A job over a prefix whose blobs lie in virtual folders, listed in parallel ranges (issue 27),
/// through Azurite and the tiny model. Three ranges share five units: the two blobs directly under
/// <c>ranged/</c> and the folders a (5 names), b (3), c (6) and d (2). Pages of 4 names, shards of 2,
/// one page a delivery, so by hand: the loose blobs make 1 shard, a 2 + 1, b 2, c 2 + 1, d 1;
/// 18 names in 10 shards.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RangedListingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int ShardsTotal = 10;
    private readonly CrashPoint crash = new();
    private MageTestHost host = null!;

    private static string[] Names =>
    [
        "ranged/0-top-0.png", "ranged/0-top-1.png",
        .. Folder("a", 5), .. Folder("b", 3), .. Folder("c", 6), .. Folder("d", 2),
    ];

    public async Task InitializeAsync()
    {
        host = await StartHostAsync(ranges: 3);
        await UploadAsync(host, Names);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_job_over_folders_lists_in_ranges_and_every_name_lands_in_exactly_one_shard()
    {
        var job = Job("ranged");

        // The job message finds the units and sends one message per range; it lists nothing itself.
        var first = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Listing, 3, 5, 3, 0, 0L), (first!.State, first.ListRanges!.Count, first.ListFolders, first.ListFoldersTaken, first.ShardsTotal, first.ImagesTotal));
        var ranges = await host.DrainAsync(host.Storage.JobsQueue);
        Assert.Equal([0, 1, 2], ranges.Select(RangeOf).Order());
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));

        // A copy of the job message, delivered again, sends nothing more.
        Assert.Equal(JobState.Listing, (await host.Get<SubmitJobService>().SubmitAsync(job))!.State);
        Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));

        foreach (var range in ranges)
        {
            await DeliverAsync(range);
        }

        await DriveAsync(together: false);

        await JobChecks.AssertCompletedOnceAsync(host, "ranged", Names, ShardsTotal);
        Assert.Equal(Enumerable.Range(0, ShardsTotal).Select(n => ResultsLayout.JobShard("ranged", n)), await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobShardsFolder("ranged")));
        Assert.Empty(await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobListingFolder("ranged")));
    }

    [Fact]
    public async Task Range_listers_running_at_the_same_time_list_every_name_once()
    {
        for (var round = 0; round < 3; round++)
        {
            var jobId = $"together-{round}";
            await host.Get<SubmitJobService>().SubmitAsync(Job(jobId));
            await DriveAsync(together: true);
            await JobChecks.AssertCompletedOnceAsync(host, jobId, Names, ShardsTotal);
        }
    }

    [Fact]
    public async Task The_status_while_listing_in_ranges_shows_the_totals_so_far_and_the_total_once_every_range_has_ended()
    {
        await host.Get<SubmitJobService>().SubmitAsync(Job("counts"));

        // One page from each range: the two loose names (1 shard), a's first four (2) and b's three (2).
        foreach (var range in await host.DrainAsync(host.Storage.JobsQueue))
        {
            await DeliverAsync(range);
        }

        await JobChecks.ProcessAllShardsAsync(host);
        var answer = await host.Get<JobApiService>().GetStatusAsync("counts", ApiCaller.Operator, "mid");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var mid = Assert.IsType<JobStatus>(answer.Body);
        Assert.Equal((JobState.Listing, 9L, 5, 5, 9L), (mid.State, mid.ImagesTotal, mid.ShardsTotal, mid.ShardsDone, mid.ImagesDone));
        Assert.Null(mid.EtaSeconds);
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));

        await DriveAsync(together: false);
        var done = (await host.Get<JobStatusStore>().GetAsync("counts"))!.Value.Status;
        Assert.Equal((JobState.Completed, 18L, ShardsTotal, 5, 5), (done.State, done.ImagesTotal, done.ShardsTotal, done.ListFolders, done.ListFoldersTaken));
        Assert.All(done.ListRanges!, r => Assert.True(r.Ended && r.PendingPage is null));
    }

    [Fact]
    public async Task A_range_lister_killed_before_or_after_committing_a_page_resumes_without_losing_or_duplicating_a_name()
    {
        await host.Get<SubmitJobService>().SubmitAsync(Job("killed"));
        var ranges = await host.DrainAsync(host.Storage.JobsQueue);
        var folderA = ranges.Single(r => RangeOf(r) == 1); // range 1 starts with folder a (5 names)

        // Killed as it commits its first page: nothing is committed, no shard is sent.
        crash.Arm(CrashPoint.Put(suffix: "/jobs/killed/status.json"));
        await Assert.ThrowsAsync<CrashException>(() => host.Get<SubmitJobService>().SubmitAsync(folderA));
        Assert.Single(await host.ListAsync(host.Storage.JobsContainer, "jobs/killed/listing/pages/")); // its page blob, named by no commit
        var before = (await host.Get<JobStatusStore>().GetDocumentAsync("killed"))!.Value.Status;
        Assert.Equal((0, 0L, null), (before.ShardsTotal, before.ImagesTotal, before.RangeOf(1)!.Cursor));
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));

        // Its message comes back: the page is listed again, committed as shards 0 and 1.
        await DeliverAsync(folderA);
        var firstShards = await host.DrainAsync(host.Storage.ShardsQueue);
        Assert.Equal([0, 1], firstShards.Select(ShardOf).Order());
        foreach (var shard in firstShards)
        {
            await host.Get<ProcessShardService>().ProcessAsync(shard);
        }

        var continuation = Assert.Single(await host.DrainAsync(host.Storage.JobsQueue));

        // Killed after committing its second page (a's fifth name, shard 2), before writing its shard.
        crash.Arm(CrashPoint.Put(part: "/jobs/killed/shards/"));
        await Assert.ThrowsAsync<CrashException>(() => host.Get<SubmitJobService>().SubmitAsync(continuation));
        var after = (await host.Get<JobStatusStore>().GetDocumentAsync("killed"))!.Value.Status;
        Assert.Equal((3, 5L), (after.ShardsTotal, after.ImagesTotal));
        Assert.Equal((2, 1), (after.RangeOf(1)!.PendingFirst, after.RangeOf(1)!.PendingShards));
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
        Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));

        // That message comes back too: it writes and sends shard 2 from the committed page first.
        await DeliverAsync(continuation);
        var shard2 = await host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobShard("killed", 2)).DownloadContentAsync();
        Assert.Equal(["ranged/a/img-04.png"], JsonSerializer.Deserialize<ShardDocument>(shard2.Value.Content.ToString(), Mage.Jobs.Vocabulary.JsonDefaults.Documents)!.Blobs.Select(b => b.Name));

        foreach (var range in ranges.Where(r => RangeOf(r) != 1))
        {
            await DeliverAsync(range);
        }

        await DriveAsync(together: false);
        await JobChecks.AssertCompletedOnceAsync(host, "killed", Names, ShardsTotal);
        Assert.Empty(await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobListingFolder("killed")));
    }

    [Fact]
    public async Task The_job_completes_once_whether_its_ranges_end_before_or_after_its_shards()
    {
        // Every range ends before any shard runs: the last shard's count completes the job.
        await host.Get<SubmitJobService>().SubmitAsync(Job("shards-last"));
        while (await host.DrainAsync(host.Storage.JobsQueue) is { Count: > 0 } wave)
        {
            foreach (var message in wave)
            {
                await DeliverAsync(message);
            }
        }

        Assert.Equal((JobState.Running, true), await StateAsync("shards-last"));
        await JobChecks.ProcessAllShardsAsync(host);
        await JobChecks.AssertCompletedOnceAsync(host, "shards-last", Names, ShardsTotal);

        // Every shard is done before the last range ends: that range's last delivery completes it.
        // Range 0 (the two loose names, then an empty page) is held back while the others list and run.
        await host.Get<SubmitJobService>().SubmitAsync(Job("listing-last"));
        var (held, _) = await HoldRangeZeroAsync();
        Assert.Equal(JobState.Completed, (await host.Get<SubmitJobService>().SubmitAsync(held))!.State);
        Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));
        await JobChecks.AssertCompletedOnceAsync(host, "listing-last", Names, ShardsTotal);

        // The last range's last delivery and the last shard run together: one of them completes the job, once.
        for (var round = 0; round < 4; round++)
        {
            var jobId = $"race-{round}";
            await host.Get<SubmitJobService>().SubmitAsync(Job(jobId));
            var last = await HoldRangeZeroAsync(holdShard: true);
            await Task.WhenAll(
                Task.Run(() => host.Get<SubmitJobService>().SubmitAsync(last.Range)),
                Task.Run(() => host.Get<ProcessShardService>().ProcessAsync(last.Shard!)));
            Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));
            Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
            await JobChecks.AssertCompletedOnceAsync(host, jobId, Names, ShardsTotal);
        }
    }

    [Fact]
    public async Task A_job_over_the_whole_container_looks_into_its_single_folder_and_never_lists_the_images_multipart_edits_stored()
    {
        // api/ holds images multipart edits stored for their senders: never a unit, so ranged/ is the one folder, looked into.
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("api/edits/e-1/image").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(99, 16, 16)));
        var job = Job("whole", "");

        var first = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((3, 5), (first!.ListRanges!.Count, first.ListFolders));
        await DriveAsync(together: false);

        await JobChecks.AssertCompletedOnceAsync(host, "whole", Names, ShardsTotal);
    }

    [Fact]
    public async Task A_prefix_without_folders_or_with_ranges_turned_off_is_listed_as_one_range()
    {
        string[] flat = [.. Enumerable.Range(0, 6).Select(i => $"flat/img-{i}.png")];
        await UploadAsync(host, flat);
        var job = Job("flat", "flat/");

        var first = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Listing, 4L), (first!.State, first.ImagesTotal));
        Assert.Null(first.ListRanges);
        Assert.Equal([job], await DriveAsync(together: false)); // the job message itself goes on, as a job listed in one range does
        await JobChecks.AssertCompletedOnceAsync(host, "flat", flat, shardsTotal: 3);

        // One range: the folders are listed one after another by the job message's own deliveries.
        await using var off = await StartHostAsync(ranges: 1);
        await UploadAsync(off, Names);
        var single = Job("single", "ranged/", off);
        var listing = await off.Get<SubmitJobService>().SubmitAsync(single);
        Assert.Null(listing!.ListRanges);
        while (await off.DrainAsync(off.Storage.JobsQueue) is { Count: > 0 } again)
        {
            Assert.Equal([single], again);
            await off.Get<SubmitJobService>().SubmitAsync(single);
        }

        await JobChecks.ProcessAllShardsAsync(off);
        await JobChecks.AssertCompletedOnceAsync(off, "single", Names, shardsTotal: 9); // pages of 4 across folders: 18 names, 9 full shards
    }

    private static IEnumerable<string> Folder(string name, int count) => Enumerable.Range(0, count).Select(i => $"ranged/{name}/img-{i:D2}.png");

    private static int RangeOf(string message) => JsonDocument.Parse(message).RootElement.GetProperty("listRange").GetInt32();

    private static int ShardOf(string message) => JsonSerializer.Deserialize<ShardMessage>(message)!.Shard;

    private async Task<MageTestHost> StartHostAsync(int ranges) =>
        await MageTestHost.StartAsync(azurite, new Dictionary<string, string?>
        {
            ["Mage:Limits:ListPageSize"] = "4",
            ["Mage:Limits:ListPagesPerMessage"] = "1",
            ["Mage:Limits:ListRanges"] = ranges.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services =>
        {
            // The app's own clients, with the crash point ahead of the retries.
            var options = new BlobClientOptions();
            options.AddPolicy(crash, HttpPipelinePosition.PerCall);
            services.AddSingleton(new BlobServiceClient(azurite.ConnectionString, options));
        });

    private static async Task UploadAsync(MageTestHost on, string[] names)
    {
        var uploads = on.Container(on.Storage.UploadsContainer);
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Length), async (i, ct) =>
            await uploads.GetBlobClient(names[i]).UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(i, 16, 16)), ct));
    }

    private string Job(string jobId, string prefix = "ranged/", MageTestHost? on = null) =>
        JsonSerializer.Serialize(new
        {
            jobId,
            source = new { container = (on ?? host).Storage.UploadsContainer, prefix },
            output = new { container = (on ?? host).Storage.ResultsContainer, prefix = $"jobs/{jobId}/" },
            shardSize = 2,
        });

    private async Task DeliverAsync(string message) => await host.Get<SubmitJobService>().SubmitAsync(message);

    private async Task<(JobState, bool)> StateAsync(string jobId)
    {
        var status = (await host.Get<JobStatusStore>().GetDocumentAsync(jobId))!.Value.Status;
        return (status.State, status.Enqueued);
    }

    /// <summary>
    /// Delivers the jobs queue's messages (ranges and their continuations) until none is sent, running
    /// the shards each wave enqueued before the next; a wave's messages one after another, or all at
    /// once. A delivery that finds its work claimed is put back, as a host retries it. Returns the
    /// messages delivered.
    /// </summary>
    private async Task<List<string>> DriveAsync(bool together)
    {
        var delivered = new List<string>();
        while (await host.DrainAsync(host.Storage.JobsQueue) is { Count: > 0 } wave)
        {
            delivered.AddRange(wave);
            if (together)
            {
                await Task.WhenAll(wave.Select(m => Task.Run(() => DeliverOrPutBackAsync(m))));
            }
            else
            {
                foreach (var message in wave)
                {
                    await DeliverOrPutBackAsync(message);
                }
            }

            await JobChecks.ProcessAllShardsAsync(host);
            Assert.True(delivered.Count < 200, "the listing never ended");
        }

        return delivered;
    }

    private async Task DeliverOrPutBackAsync(string message)
    {
        try
        {
            await DeliverAsync(message);
        }
        catch (WorkClaimedException)
        {
            await host.Queues.GetQueueClient(host.Storage.JobsQueue).SendMessageAsync(message);
        }
    }

    /// <summary>
    /// Lists every range but range 0 to its end, with range 0's first page (the two loose names), and
    /// runs their shards; returns range 0's message for its last page (an empty one) and, when asked,
    /// one shard message held back.
    /// </summary>
    private async Task<(string Range, string? Shard)> HoldRangeZeroAsync(bool holdShard = false)
    {
        var ranges = await host.DrainAsync(host.Storage.JobsQueue);
        var zero = ranges.Single(r => RangeOf(r) == 0);
        await DeliverAsync(zero);
        Assert.Equal([zero], (await host.DrainAsync(host.Storage.JobsQueue)).Where(m => RangeOf(m) == 0));
        foreach (var range in ranges.Where(r => RangeOf(r) != 0))
        {
            await DeliverAsync(range);
        }

        var shards = await host.DrainAsync(host.Storage.ShardsQueue);
        string? held = holdShard ? shards[^1] : null;
        foreach (var shard in shards.Where(s => s != held))
        {
            await host.Get<ProcessShardService>().ProcessAsync(shard);
        }

        await DriveAsync(together: false);
        Assert.Equal(JobState.Listing, (await StateAsync(JsonDocument.Parse(zero).RootElement.GetProperty("jobId").GetString()!)).Item1);
        return (zero, held);
    }
}

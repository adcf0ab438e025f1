using System.Net;
using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Outputs;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.BulkJobs;

/// <summary>
/// A job listed a page per delivery of its message (issue 27), through Azurite and the tiny model:
/// shards run while the listing goes on, the job completes exactly once whoever finishes last (the
/// listing or a shard), and a lister killed mid-listing resumes from its last committed page with
/// every name in exactly one row. Pages of 4 names, shards of 2, one page per delivery.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StreamedListingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int Images = 20;
    private MageTestHost host = null!;

    private static string[] Names => [.. Enumerable.Range(0, Images).Select(i => $"set/img-{i:D3}.png")];

    private JobStatusStore Statuses => host.Get<JobStatusStore>();

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?>
        {
            ["Mage:Limits:ListPageSize"] = "4",
            ["Mage:Limits:ListPagesPerMessage"] = "1",
        });
        var uploads = host.Container(host.Storage.UploadsContainer);
        await Parallel.ForEachAsync(Enumerable.Range(0, Images), async (i, ct) =>
            await uploads.GetBlobClient(Names[i]).UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(i, 16, 16)), ct));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Shards_run_while_the_job_is_listing_and_the_job_completes_once_when_the_listing_ends()
    {
        var job = Job("streamed", new { container = host.Storage.UploadsContainer, prefix = "set/" });

        // The first delivery commits one page: its two shards are enqueued, and the message is sent again to go on.
        var first = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Listing, 4L, 2, 2), (first!.State, first.ImagesTotal, first.ShardsTotal, first.ShardsEnqueued));
        Assert.Equal([job], (await host.Queues.GetQueueClient(host.Storage.JobsQueue).PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()));
        var shards = await host.DrainAsync(host.Storage.ShardsQueue);
        Assert.Equal(2, shards.Count);

        // Those shards run now, and the status answers listing with what they did.
        foreach (var shard in shards)
        {
            Assert.Equal(WorkOutcome.Committed, (await host.Get<ProcessShardService>().ProcessAsync(shard)).Status);
        }

        var answer = await host.Get<JobApiService>().GetStatusAsync("streamed", ApiCaller.Operator, "mid");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var mid = Assert.IsType<JobStatus>(answer.Body);
        Assert.Equal((JobState.Listing, 2, 4L, 4L, 2), (mid.State, mid.ShardsDone, mid.ImagesDone, mid.ImagesTotal, mid.ShardsTotal));
        Assert.Null(mid.EtaSeconds);
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));

        // Each later delivery lists the next page, its shards run before the listing ends.
        var states = new List<JobState>();
        var deliveries = await DriveAsync(job, states);

        Assert.Equal(4, deliveries); // pages 2 to 5; the fifth ends the listing
        Assert.Equal([JobState.Listing, JobState.Listing, JobState.Listing, JobState.Running], states);
        await AssertCompletedOnceAsync("streamed", Names, shardsTotal: 10);
    }

    [Fact]
    public async Task A_listing_that_ends_after_every_shard_is_done_completes_the_job_itself()
    {
        // Eight names in pages of four: the third page is empty and ends the listing after the four shards are counted.
        var list = await UploadListAsync("lists/eight.txt", Names[..8]);
        var job = Job("ends-last", new { container = host.Storage.UploadsContainer, list });

        var states = new List<JobState>();
        Assert.Equal(JobState.Listing, (await host.Get<SubmitJobService>().SubmitAsync(job))!.State);
        await ProcessAllAsync();
        var deliveries = await DriveAsync(job, states);

        Assert.Equal([JobState.Listing, JobState.Completed], states); // the last delivery found every shard done and completed the job
        Assert.Equal(2, deliveries);
        await AssertCompletedOnceAsync("ends-last", Names[..8], shardsTotal: 4);

        // Had that delivery died between completing the status and writing the manifest, its message comes back and writes it.
        var manifest = host.Container(host.Storage.ResultsContainer).GetBlobClient("jobs/ends-last/manifest.json");
        await manifest.DeleteAsync();
        Assert.Equal(JobState.Completed, (await host.Get<SubmitJobService>().SubmitAsync(job))!.State);
        Assert.True((await manifest.ExistsAsync()).Value);
        Assert.Single(await host.DrainAsync(host.Storage.EventsQueue));
        Assert.Equal(JobState.Completed, (await host.Get<SubmitJobService>().SubmitAsync(job))!.State);
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue)); // a later copy publishes nothing more
    }

    [Fact]
    public async Task The_last_shard_finishing_while_the_listing_ends_completes_the_job_exactly_once()
    {
        // The lister commits the total and folds what it finds; the worker counts its shard and reads
        // the status: run together, in whichever order they interleave, one of them completes the job.
        for (var round = 0; round < 6; round++)
        {
            var jobId = $"race-{round}";
            var list = await UploadListAsync($"lists/{jobId}.txt", Names[..8]);
            var job = Job(jobId, new { container = host.Storage.UploadsContainer, list });
            await host.Get<SubmitJobService>().SubmitAsync(job);
            await ProcessAllAsync();
            Assert.Equal([job], await host.DrainAsync(host.Storage.JobsQueue));
            await host.Get<SubmitJobService>().SubmitAsync(job); // the second page: shards 2 and 3
            var shards = await host.DrainAsync(host.Storage.ShardsQueue);
            Assert.Equal(2, shards.Count);
            await host.Get<ProcessShardService>().ProcessAsync(shards[0]);
            Assert.Equal([job], await host.DrainAsync(host.Storage.JobsQueue));

            await Task.WhenAll(
                Task.Run(() => host.Get<SubmitJobService>().SubmitAsync(job)),
                Task.Run(() => host.Get<ProcessShardService>().ProcessAsync(shards[1])));

            Assert.Empty(await host.DrainAsync(host.Storage.JobsQueue));
            Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
            await AssertCompletedOnceAsync(jobId, Names[..8], shardsTotal: 4);
        }
    }

    [Fact]
    public async Task A_lister_killed_mid_listing_resumes_from_its_last_commit_without_losing_or_duplicating_a_name()
    {
        var job = Job("killed", new { container = host.Storage.UploadsContainer, prefix = "set/" });
        var submit = host.Get<SubmitJobService>();
        await submit.SubmitAsync(job);
        await host.DrainAsync(host.Storage.JobsQueue);
        var afterFirstPage = (await host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobStatus("killed")).DownloadContentAsync()).Value.Content;

        // Killed after writing the second page's shards, before committing it: the status document is
        // as the first page left it, no message of that page was sent, and shard 3 was written from a
        // page that came back split differently (as a retried listing page may).
        await submit.SubmitAsync(job);
        await host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobStatus("killed")).UploadAsync(afterFirstPage, overwrite: true);
        await host.DrainAsync(host.Storage.JobsQueue);
        var messages = await host.DrainAsync(host.Storage.ShardsQueue);
        Assert.Equal(4, messages.Count);
        var shard3 = host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobShard("killed", 3));
        var stale = (await shard3.DownloadContentAsync()).Value.Content.ToString().Replace(Names[7], Names[8], StringComparison.Ordinal);
        await shard3.UploadAsync(BinaryData.FromString(stale), overwrite: true);
        foreach (var m in messages.Where(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard < 2))
        {
            await host.Get<ProcessShardService>().ProcessAsync(m);
        }

        // The message comes back: the second page is listed again from the committed position.
        var resumed = await submit.SubmitAsync(job);
        Assert.Equal((JobState.Listing, 8L, 4, 4), (resumed!.State, resumed.ImagesTotal, resumed.ShardsTotal, resumed.ShardsEnqueued));
        await ProcessAllAsync();
        await host.DrainAsync(host.Storage.JobsQueue);

        // Killed after committing the third page, before sending its shards: the next delivery sends them first.
        await submit.SubmitAsync(job);
        await host.DrainAsync(host.Storage.JobsQueue);
        Assert.Equal(2, (await host.DrainAsync(host.Storage.ShardsQueue)).Count);
        await Statuses.UpdateAsync("killed", s => s with { ShardsEnqueued = 4 });
        var again = await submit.SubmitAsync(job);
        Assert.Equal((JobState.Listing, 8, 16L), (again!.State, again.ShardsEnqueued, again.ImagesTotal));
        Assert.Equal([4, 5, 6, 7], (await host.DrainAsync(host.Storage.ShardsQueue)).Select(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard).Order());

        foreach (var shard in Enumerable.Range(4, 4))
        {
            await host.Get<ProcessShardService>().ProcessAsync(JsonSerializer.Serialize(new ShardMessage("killed", shard)));
        }

        await DriveAsync(job, []);

        // A copy of an old delivery, back after the listing ended, changes nothing.
        Assert.Equal(JobState.Completed, (await submit.SubmitAsync(job))!.State);
        Assert.Empty(await host.DrainAsync(host.Storage.ShardsQueue));
        await AssertCompletedOnceAsync("killed", Names, shardsTotal: 10);
    }

    [Fact]
    public async Task Several_pages_a_delivery_each_read_while_the_one_before_is_written_list_every_name_once()
    {
        // This test alone runs on a host that lists three pages a delivery (the helpers use the field).
        var onePageHost = host;
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?>
        {
            ["Mage:Limits:ListPageSize"] = "4",
            ["Mage:Limits:ListPagesPerMessage"] = "3",
        });
        try
        {
            var uploads = host.Container(host.Storage.UploadsContainer);
            await Parallel.ForEachAsync(Enumerable.Range(0, Images), async (i, ct) =>
                await uploads.GetBlobClient(Names[i]).UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(i, 16, 16)), ct));
            var job = Job("ahead", new { container = host.Storage.UploadsContainer, prefix = "set/" });

            var first = await host.Get<SubmitJobService>().SubmitAsync(job);
            Assert.Equal((JobState.Listing, 12L, 6, 6), (first!.State, first.ImagesTotal, first.ShardsTotal, first.ShardsEnqueued));
            Assert.Equal(Enumerable.Range(0, 6), (await host.DrainAsync(host.Storage.ShardsQueue)).Select(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard).Order());
            var states = new List<JobState>();
            Assert.Equal(1, await DriveAsync(job, states)); // pages 4 and 5, the last
            Assert.Equal([JobState.Running], states);
            foreach (var shard in Enumerable.Range(0, 6))
            {
                await host.Get<ProcessShardService>().ProcessAsync(JsonSerializer.Serialize(new ShardMessage("ahead", shard)));
            }

            await AssertCompletedOnceAsync("ahead", Names, shardsTotal: 10);
        }
        finally
        {
            await host.DisposeAsync();
            host = onePageHost;
        }
    }

    [Fact]
    public async Task A_list_blob_goes_on_from_byte_offsets_through_crlf_blank_lines_and_a_byte_order_mark()
    {
        // Ten names in pages of four: pages end mid-file after CRLF, LF and blank lines; names in list order, each once.
        var names = Names[..10].Reverse().ToArray();
        var text = "\uFEFF" + names[0] + "\r\n" + names[1] + "\n\n" + names[2] + "\r\n\r\n" + names[3] + "\n" + names[4] + "\r\n\n\n" + string.Join("\n", names[5..]);
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("lists/mixed.txt").UploadAsync(BinaryData.FromString(text));
        var job = Job("mixed", new { container = host.Storage.UploadsContainer, list = "lists/mixed.txt" });

        var first = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Listing, 4L), (first!.State, first.ImagesTotal));
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text[..(text.IndexOf(names[3], StringComparison.Ordinal) + names[3].Length + 1)]), long.Parse(first.ListCursor!, System.Globalization.CultureInfo.InvariantCulture));
        await ProcessAllAsync();
        await DriveAsync(job, []);

        await AssertCompletedOnceAsync("mixed", names, shardsTotal: 5);
        var rows = new List<string>();
        for (var part = 0; part < 5; part++)
        {
            using var stream = (await host.Container(host.Storage.ResultsContainer).GetBlobClient($"jobs/mixed/out/part-{part:D6}.parquet").DownloadContentAsync()).Value.Content.ToStream();
            rows.AddRange((await ParquetTable.ReadAsync<EmbeddingRow>(stream)).Select(r => r.Name!));
        }

        Assert.Equal(names, rows); // the list's order
    }

    [Fact]
    public async Task A_list_blob_changed_while_it_is_listed_fails_the_job_with_the_reason()
    {
        var list = await UploadListAsync("lists/changing.txt", Names[..8]);
        var job = Job("changing", new { container = host.Storage.UploadsContainer, list });
        Assert.Equal(JobState.Listing, (await host.Get<SubmitJobService>().SubmitAsync(job))!.State);

        await UploadListAsync("lists/changing.txt", Names[..9]); // a new version: offsets in it mean nothing
        var failed = await host.Get<SubmitJobService>().SubmitAsync(job);

        Assert.Equal(JobState.Failed, failed!.State);
        Assert.Equal("source.list 'lists/changing.txt' changed while it was being listed; submit the job again with a new jobId.", failed.Reason);
    }

    private string Job(string jobId, object source) =>
        JsonSerializer.Serialize(new { jobId, source, output = new { container = host.Storage.ResultsContainer, prefix = $"jobs/{jobId}/" }, shardSize = 2 });

    private async Task<string> UploadListAsync(string name, IEnumerable<string> names)
    {
        await host.Container(host.Storage.UploadsContainer).GetBlobClient(name).UploadAsync(BinaryData.FromString(string.Join('\n', names) + "\n"), overwrite: true);
        return name;
    }

    private Task ProcessAllAsync() => JobChecks.ProcessAllShardsAsync(host);

    /// <summary>
    /// Delivers the job's continuations as the host would until none is sent, running the shards each
    /// one enqueued before the next; records the state each delivery returned. Returns the deliveries.
    /// </summary>
    private async Task<int> DriveAsync(string job, List<JobState> states)
    {
        var deliveries = 0;
        while (await host.DrainAsync(host.Storage.JobsQueue) is { Count: > 0 } continuations)
        {
            Assert.Equal([job], continuations);
            states.Add((await host.Get<SubmitJobService>().SubmitAsync(job))!.State);
            deliveries++;
            await ProcessAllAsync();
            Assert.True(deliveries < 20, "the listing never ended");
        }

        return deliveries;
    }

    private Task AssertCompletedOnceAsync(string jobId, string[] names, int shardsTotal) => JobChecks.AssertCompletedOnceAsync(host, jobId, names, shardsTotal);
}

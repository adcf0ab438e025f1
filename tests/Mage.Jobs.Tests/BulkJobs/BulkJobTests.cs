using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Outputs;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.BulkJobs;

[Collection(AzuriteCollection.Name)]
public sealed class BulkJobTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int Images = 240;
    private MageTestHost host = null!;
    private string source = "";

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite);
        source = host.Storage.UploadsContainer;
        var container = host.Container(source);
        await Parallel.ForEachAsync(Enumerable.Range(0, Images), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await container.GetBlobClient($"set/img-{i:D4}.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(i)), ct));
        await container.GetBlobClient("set/zz-readme.txt").UploadAsync(BinaryData.FromString("not an image"));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Every_row_is_written_exactly_once_despite_duplicates_and_cancellation()
    {
        var submit = host.Get<SubmitJobService>();
        var job = JsonSerializer.Serialize(new
        {
            jobId = "bulk-1",
            source = new { container = source, prefix = "set/" },
            pooling = "mean",
            normalize = true,
            shardSize = 32,
        });

        var status = await submit.SubmitAsync(job);
        Assert.NotNull(status);
        Assert.Equal(JobState.Running, status.State);
        Assert.Equal(Images + 1, status.ImagesTotal);
        Assert.Equal(8, status.ShardsTotal);
        Assert.True(status.Enqueued);

        // A redelivered job message enqueues nothing more.
        await submit.SubmitAsync(job);
        var messages = await host.DrainAsync(host.Storage.ShardsQueue);
        Assert.Equal(8, messages.Count);
        Assert.Equal(8, messages.Distinct().Count());

        var shards = host.Get<ProcessShardService>();

        // A worker cancelled halfway commits nothing; the retried message redoes the shard.
        using (var cts = new CancellationTokenSource())
        {
            var progress = new CancelAfter(10, cts);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shards.ProcessAsync(messages[1], progress, cts.Token));
        }

        Assert.Equal(["jobs/bulk-1/job.json"], await host.ListAsync(host.Storage.ResultsContainer, "jobs/bulk-1/"));

        foreach (var m in messages)
        {
            Assert.Equal(WorkOutcome.Committed, (await shards.ProcessAsync(m)).Status);
        }

        // Redelivery after commit: acknowledged, nothing recounted.
        Assert.Equal(WorkOutcome.AlreadyCounted, (await shards.ProcessAsync(messages[0])).Status);

        var final = (await host.Get<Mage.Jobs.Coordination.JobStatusStore>().GetAsync("bulk-1"))!.Value.Status;
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal(8, final.ShardsDone);
        Assert.Equal(0, final.ShardsFailed);
        Assert.Equal(Images, final.ImagesDone);
        Assert.Equal(1, final.ImagesFailed);

        var results = host.Container(host.Storage.ResultsContainer);
        var parts = await host.ListAsync(host.Storage.ResultsContainer, "jobs/bulk-1/out/");
        Assert.Equal(8, parts.Count);
        var rows = new List<EmbeddingRow>();
        foreach (var part in parts)
        {
            using var stream = (await results.GetBlobClient(part).DownloadContentAsync()).Value.Content.ToStream();
            rows.AddRange(await ParquetTable.ReadAsync<EmbeddingRow>(stream));
        }

        Assert.Equal(Images + 1, rows.Count);
        Assert.Equal(Images + 1, rows.Select(r => r.Name).Distinct().Count());
        var bad = Assert.Single(rows, r => r.Error is not null);
        Assert.Equal("set/zz-readme.txt", bad.Name);
        Assert.Null(bad.Embedding);
        Assert.All(rows.Where(r => r.Error is null), r =>
        {
            Assert.NotNull(r.Embedding);
            Assert.NotEmpty(r.Etag!);
            Assert.InRange(Math.Sqrt(r.Embedding!.Sum(v => (double)v * v)), 0.999, 1.001); // normalize = true
        });

        using var manifest = JsonDocument.Parse((await results.GetBlobClient("jobs/bulk-1/manifest.json").DownloadContentAsync()).Value.Content);
        Assert.Equal(8, manifest.RootElement.GetProperty("parts").GetArrayLength());
        Assert.Equal(Images, manifest.RootElement.GetProperty("imagesDone").GetInt64());
        Assert.Equal(1, manifest.RootElement.GetProperty("imagesFailed").GetInt64());
        Assert.Equal(Images + 1, manifest.RootElement.GetProperty("parts").EnumerateArray().Sum(p => p.GetProperty("rows").GetInt32() + p.GetProperty("failed").GetInt32()));

        var events = await host.DrainAsync(host.Storage.EventsQueue);
        Assert.Contains(events, e => e.Contains("\"mage.job.completed\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Explicit_list_with_a_missing_blob_gets_an_error_row()
    {
        var job = JsonSerializer.Serialize(new
        {
            jobId = "list-1",
            source = new { container = source, blobs = new[] { "set/img-0001.png", "set/nope.png", "set/img-0002.png" } },
            output = new { container = host.Storage.ResultsContainer, prefix = "custom/list-1" },
            shardSize = 2,
        });

        var status = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal(2, status!.ShardsTotal);
        foreach (var m in await host.DrainAsync(host.Storage.ShardsQueue))
        {
            await host.Get<ProcessShardService>().ProcessAsync(m);
        }

        var final = (await host.Get<Mage.Jobs.Coordination.JobStatusStore>().GetAsync("list-1"))!.Value.Status;
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal(2, final.ImagesDone);
        Assert.Equal(1, final.ImagesFailed);
        using var stream = (await host.Container(host.Storage.ResultsContainer).GetBlobClient("custom/list-1/out/part-000000.parquet").DownloadContentAsync()).Value.Content.ToStream();
        var rows = await ParquetTable.ReadAsync<EmbeddingRow>(stream);
        Assert.StartsWith("missing: ", rows.Single(r => r.Name == "set/nope.png").Error, StringComparison.Ordinal); // every row error is "reason: message"
    }

    [Fact]
    public async Task A_list_blob_is_streamed_into_shards_in_its_order_and_a_missing_list_fails_the_job()
    {
        // CRLF and LF lines, a byte order mark, blank lines (skipped) and a name that is not there (its own error row).
        var names = new[] { "set/img-0003.png", "set/img-0001.png", "set/nope.png", "set/img-0002.png", "set/img-0000.png" };
        var text = "\uFEFF" + names[0] + "\r\n" + names[1] + "\n\n" + names[2] + "\r\n\r\n" + names[3] + "\n" + names[4];
        await host.Container(source).GetBlobClient("lists/day-1.txt").UploadAsync(BinaryData.FromString(text));
        var job = JsonSerializer.Serialize(new { jobId = "blob-list-1", source = new { container = source, list = "lists/day-1.txt" }, shardSize = 2 });

        var status = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Running, 5L, 3, "lists/day-1.txt"), (status!.State, status.ImagesTotal, status.ShardsTotal, status.SourceList));
        foreach (var m in await host.DrainAsync(host.Storage.ShardsQueue))
        {
            await host.Get<ProcessShardService>().ProcessAsync(m);
        }

        var final = (await host.Get<Mage.Jobs.Coordination.JobStatusStore>().GetAsync("blob-list-1"))!.Value.Status;
        Assert.Equal((JobState.Completed, 4L, 1L), (final.State, final.ImagesDone, final.ImagesFailed));
        var rows = new List<EmbeddingRow>();
        for (var part = 0; part < 3; part++)
        {
            using var stream = (await host.Container(host.Storage.ResultsContainer).GetBlobClient($"jobs/blob-list-1/out/part-{part:D6}.parquet").DownloadContentAsync()).Value.Content.ToStream();
            rows.AddRange(await ParquetTable.ReadAsync<EmbeddingRow>(stream));
        }

        Assert.Equal(names, rows.Select(r => r.Name));
        Assert.StartsWith("missing: ", rows.Single(r => r.Name == "set/nope.png").Error, StringComparison.Ordinal);

        var missing = await host.Get<SubmitJobService>().SubmitAsync(
            JsonSerializer.Serialize(new { jobId = "blob-list-2", source = new { container = source, list = "lists/none.txt" } }));
        Assert.Equal(JobState.Failed, missing!.State);
        Assert.Equal($"source.list 'lists/none.txt' does not exist in container '{source}'.", missing.Reason);
    }

    [Fact]
    public async Task Images_multipart_edits_stored_are_never_read_by_a_job()
    {
        // Two callers' images stored by multipart edits (api/ of the uploads container), beside a caller's own uploads.
        var uploads = host.Container(source);
        foreach (var name in new[] { "api/edits/e-1/image", "api/edits/e-2/mask" })
        {
            await uploads.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(7)));
        }

        await uploads.GetBlobClient("own/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(8)));
        var submit = host.Get<SubmitJobService>();

        // A listing of the whole container leaves them out.
        var all = await submit.SubmitAsync(JsonSerializer.Serialize(new { jobId = "all-uploads", source = new { container = source }, shardSize = 256 }));
        Assert.Equal((Images + 2L, 1), (all!.ImagesTotal, all.ShardsTotal)); // set/ (240 images and a text file) and own/a.png
        var shard = (await host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.JobShard("all-uploads", 0)).DownloadContentAsync()).Value.Content.ToString();
        Assert.DoesNotContain("api/", shard, StringComparison.Ordinal);
        Assert.Contains("\"own/a.png\"", shard, StringComparison.Ordinal);
        await host.DrainAsync(host.Storage.ShardsQueue);

        // Naming one refuses the job, saying which entry and why.
        var named = await submit.SubmitAsync(JsonSerializer.Serialize(new { jobId = "named-upload", source = new { container = source, blobs = new[] { "own/a.png", "api/edits/e-1/image" } } }));
        Assert.Equal(JobState.Failed, named!.State);
        Assert.StartsWith("notAllowed: source.blobs[1] lies under api/ of the uploads container", named.Reason, StringComparison.Ordinal);

        // A list blob's line naming one fails that row alone.
        await uploads.GetBlobClient("lists/mixed.txt").UploadAsync(BinaryData.FromString("own/a.png\napi/edits/e-2/mask\n"));
        var listed = await submit.SubmitAsync(JsonSerializer.Serialize(new { jobId = "listed-upload", source = new { container = source, list = "lists/mixed.txt" } }));
        Assert.Equal(2, listed!.ImagesTotal);
        foreach (var m in await host.DrainAsync(host.Storage.ShardsQueue))
        {
            await host.Get<ProcessShardService>().ProcessAsync(m);
        }

        var final = (await host.Get<Mage.Jobs.Coordination.JobStatusStore>().GetAsync("listed-upload"))!.Value.Status;
        Assert.Equal((JobState.Completed, 1L, 1L), (final.State, final.ImagesDone, final.ImagesFailed));
        using var stream = (await host.Container(host.Storage.ResultsContainer).GetBlobClient("jobs/listed-upload/out/part-000000.parquet").DownloadContentAsync()).Value.Content.ToStream();
        var rows = await ParquetTable.ReadAsync<EmbeddingRow>(stream);
        var refused = rows.Single(r => r.Name == "api/edits/e-2/mask");
        Assert.StartsWith("notAllowed: The blob lies under api/ of the uploads container", refused.Error, StringComparison.Ordinal);
        Assert.Null(refused.Embedding);
    }

    /// <summary>Cancels synchronously once a number of images are done.</summary>
    private sealed class CancelAfter(int count, CancellationTokenSource cts) : IProgress<int>
    {
        private int done;

        public void Report(int value)
        {
            if (Interlocked.Add(ref done, value) >= count)
            {
                cts.Cancel();
            }
        }
    }
}

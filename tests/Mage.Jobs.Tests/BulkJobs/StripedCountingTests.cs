using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Http;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.BulkJobs;

/// <summary>
/// Shard counts spread over stripe documents (issue 16), through Azurite: every shard counted once
/// however many workers commit at once and however often a message comes back, the job completed
/// once with one manifest, and the status API summing the stripes mid-job. Each shard's part is
/// committed before its message is handled (as a worker that died after committing leaves it), so
/// the tests exercise counting alone and the model never runs.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StripedCountingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int Rows = 3;
    private const int FailedRows = 1;

    /// <summary>How long all deliveries of a test may take, retries included: generous (they take a few seconds), but finite.</summary>
    private static readonly TimeSpan RetryDeadline = TimeSpan.FromMinutes(2);
    private MageTestHost host = null!;

    private JobStatusStore Statuses => host.Get<JobStatusStore>();

    public async Task InitializeAsync() => host = await MageTestHost.StartAsync(azurite, services: CountingEngineSource.Install);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Many_concurrent_commits_each_delivered_twice_count_every_shard_once_and_complete_the_job_once()
    {
        const int shards = 96;
        var messages = await SubmitCommittedAsync("many", shards);
        Assert.Equal(6, (await Statuses.GetDocumentAsync("many"))!.Value.Status.Stripes);
        var service = host.Get<ProcessShardService>();
        var outcomes = new ConcurrentBag<WorkOutcome>();
        var waiting = new ConcurrentDictionary<int, int>(); // shard -> copies now waiting for its claim

        // Every message twice, 32 deliveries at a time; a copy that finds its shard claimed comes back later, as the host retries it.
        // A claim that is never released (a leak) would keep a copy retrying forever: the deadline turns that hang into a failure.
        using var deadline = new CancellationTokenSource(RetryDeadline);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 2 * shards), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = deadline.Token }, async (delivery, ct) =>
            {
                var shard = delivery % shards;
                while (true)
                {
                    try
                    {
                        outcomes.Add((await service.ProcessAsync(messages[shard], null, ct)).Status);
                        return;
                    }
                    catch (WorkClaimedException)
                    {
                        waiting.AddOrUpdate(shard, 1, (_, n) => n + 1);
                        await Task.Delay(20, ct);
                        waiting.AddOrUpdate(shard, 0, (_, n) => n - 1);
                    }
                }
            });
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var stuck = waiting.Where(w => w.Value > 0).Select(w => w.Key).Order();
            Assert.Fail($"After {RetryDeadline.TotalSeconds} s, {(2 * shards) - outcomes.Count} of {2 * shards} deliveries were still unfinished; "
                + $"copies of shards [{string.Join(", ", stuck)}] were waiting for the shard's claim to be released (a claim that is never freed?).");
        }

        Assert.Equal(2 * shards, outcomes.Count);
        Assert.All(outcomes, o => Assert.True(o is WorkOutcome.AlreadyCommitted or WorkOutcome.AlreadyCounted, $"unexpected outcome {o}"));
        Assert.Equal(0, host.Get<CountingEngineSource>().Computations);
        await AssertCompletedOnceAsync("many", shards);
    }

    [Fact]
    public async Task Status_mid_job_adds_the_stripes_not_folded_yet()
    {
        const int shards = 40; // two stripes: even shards and odd shards
        var messages = await SubmitCommittedAsync("mid", shards);
        var submitted = (await Statuses.GetDocumentAsync("mid"))!.Value.ETag;
        var service = host.Get<ProcessShardService>();
        int[] counted = [.. Enumerable.Range(0, shards).Where(n => n % 2 == 0), 1, 3, 5];
        var isCounted = counted.ToHashSet();
        foreach (var n in counted)
        {
            Assert.Equal(WorkOutcome.AlreadyCommitted, (await service.ProcessAsync(messages[n])).Status);
        }

        // Stripe 0 is complete, but nothing is folded into the document before the job completes; the API adds both stripes.
        var document = (await Statuses.GetDocumentAsync("mid"))!.Value.Status;
        Assert.Equal((JobState.Running, 0), (document.State, document.ShardsDone));
        Assert.Equal(submitted, (await Statuses.GetDocumentAsync("mid"))!.Value.ETag); // 23 shards and a complete stripe counted: status.json never written
        Assert.Equal([ResultsLayout.JobStripe("mid", 0), ResultsLayout.JobStripe("mid", 1)], await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobStripesFolder("mid")));
        var answer = await host.Get<JobApiService>().GetStatusAsync("mid", ApiCaller.Operator, "mid-status");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var status = Assert.IsType<JobStatus>(answer.Body);
        Assert.Equal(JobState.Running, status.State);
        Assert.Equal((23, 0), (status.ShardsDone, status.ShardsFailed));
        Assert.Equal((23L * Rows, 23L * FailedRows), (status.ImagesDone, status.ImagesFailed));
        Assert.Equal(Enumerable.Range(0, shards).Select(isCounted.Contains), Enumerable.Range(0, shards).Select(status.IsShardCounted));
        Assert.NotNull(status.EtaSeconds);

        // A redelivered shard of the stripe still counting is acknowledged, not recounted.
        Assert.Equal(WorkOutcome.AlreadyCounted, (await service.ProcessAsync(messages[3])).Status);
        Assert.Equal(23, (await Statuses.GetAsync("mid"))!.Value.Status.ShardsDone);

        foreach (var n in Enumerable.Range(0, shards).Except(counted))
        {
            await service.ProcessAsync(messages[n]);
        }

        await AssertCompletedOnceAsync("mid", shards);
    }

    [Fact]
    public async Task A_stripe_completed_by_a_worker_that_died_before_folding_it_is_folded_by_the_next_delivery()
    {
        const int shards = 16; // one stripe
        var messages = await SubmitCommittedAsync("fold", shards);
        var service = host.Get<ProcessShardService>();
        for (var n = 0; n < shards - 1; n++)
        {
            await service.ProcessAsync(messages[n]);
        }

        // The last shard counted in its stripe, then the worker died: nothing folded, no manifest.
        var now = DateTimeOffset.UtcNow;
        var stripe = await Statuses.UpdateStripeAsync("fold", 0, s => s.WithShard(shards - 1, Rows, FailedRows, shardFailed: false, now));
        Assert.True(stripe!.IsCompleteIn((await Statuses.GetDocumentAsync("fold"))!.Value.Status));
        var pending = (await Statuses.GetAsync("fold"))!.Value.Status;
        Assert.Equal((JobState.Running, shards), (pending.State, pending.ShardsDone));

        Assert.Equal(WorkOutcome.AlreadyCounted, (await service.ProcessAsync(messages[shards - 1])).Status);
        await AssertCompletedOnceAsync("fold", shards);
    }

    [Fact]
    public async Task A_completion_event_whose_parts_would_not_fit_in_a_queue_message_lists_the_manifest_alone()
    {
        // 80 parts under a 400-character prefix: ~35 KB of names, past JobCompletion.MaxEventPartChars.
        const int shards = 80;
        var prefix = string.Concat(Enumerable.Range(0, 40).Select(i => $"level-{i:D2}/")) + "big/";
        var messages = await SubmitCommittedAsync("big", shards, prefix);
        var service = host.Get<ProcessShardService>();
        foreach (var message in messages)
        {
            await service.ProcessAsync(message);
        }

        var events = await host.DrainAsync(host.Storage.EventsQueue);
        var outputs = JsonDocument.Parse(Assert.Single(events)).RootElement.GetProperty("data").GetProperty("outputs");
        Assert.Equal([$"{host.Storage.ResultsContainer}/{ResultsLayout.JobManifest(prefix)}"], outputs.EnumerateArray().Select(o => o.GetString()));
        using var manifest = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(ResultsLayout.JobManifest(prefix)).DownloadContentAsync()).Value.Content);
        Assert.Equal(shards, manifest.RootElement.GetProperty("parts").GetArrayLength());
    }

    /// <summary>Submits a job of one image per shard, commits every shard's part, and returns its shard messages in shard order.</summary>
    private async Task<List<string>> SubmitCommittedAsync(string jobId, int shards, string? outputPrefix = null)
    {
        var job = JsonSerializer.Serialize(new
        {
            jobId,
            source = new { container = host.Storage.UploadsContainer, blobs = Enumerable.Range(0, shards).Select(i => $"set/{i:D3}.png") },
            output = new { container = host.Storage.ResultsContainer, prefix = outputPrefix ?? $"jobs/{jobId}/" },
            shardSize = 1,
        });
        var status = await host.Get<SubmitJobService>().SubmitAsync(job);
        Assert.Equal((JobState.Running, shards), (status!.State, status.ShardsTotal));
        var results = host.Container(host.Storage.ResultsContainer);
        await Parallel.ForEachAsync(Enumerable.Range(0, shards), async (n, ct) =>
            await results.GetBlobClient(ResultsLayout.JobPart(status.OutputPrefix!, n)).UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Metadata = new Dictionary<string, string>
                {
                    ["jobid"] = jobId,
                    [ProcessShardService.RowsKey] = Rows.ToString(CultureInfo.InvariantCulture),
                    [ProcessShardService.FailedKey] = FailedRows.ToString(CultureInfo.InvariantCulture),
                },
            }, ct));
        return [.. (await host.DrainAsync(host.Storage.ShardsQueue)).OrderBy(m => JsonSerializer.Deserialize<ShardMessage>(m)!.Shard)];
    }

    private async Task AssertCompletedOnceAsync(string jobId, int shards)
    {
        var status = (await Statuses.GetAsync(jobId))!.Value.Status;
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal((shards, 0), (status.ShardsDone, status.ShardsFailed));
        Assert.Equal(((long)shards * Rows, (long)shards * FailedRows), (status.ImagesDone, status.ImagesFailed));
        Assert.All(Enumerable.Range(0, shards), n => Assert.True(status.IsShardCounted(n)));
        Assert.Equal<double?>(0, status.EtaSeconds);
        Assert.NotNull(status.CompletedAt);
        Assert.Equal(status, (await Statuses.GetDocumentAsync(jobId))!.Value.Status); // everything folded in

        using var manifest = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(ResultsLayout.JobManifest(status.OutputPrefix!)).DownloadContentAsync()).Value.Content);
        Assert.Equal(shards, manifest.RootElement.GetProperty("parts").GetArrayLength());
        Assert.Equal((long)shards * Rows, manifest.RootElement.GetProperty("imagesDone").GetInt64());
        var events = (await host.DrainAsync(host.Storage.EventsQueue)).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("type").GetString());
        Assert.Equal([MageEventTypes.JobCompleted], events);
        Assert.Equal(
            [.. Enumerable.Range(0, shards).Select(n => ResultsLayout.JobShard(jobId, n)), ResultsLayout.JobStatus(jobId)],
            (await host.ListAsync(host.Storage.JobsContainer, $"jobs/{jobId}/")).Order(StringComparer.Ordinal));
    }
}

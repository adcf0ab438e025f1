using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Mage.Cli.Worker;
using Mage.Inference.Imaging;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Outputs;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Cli.Tests;

/// <summary>
/// Two real <c>mage worker</c> processes on one bulk job. A worker holds each message on a short
/// lease that it renews while it works, and takes only as many shards as it has slots: so a worker
/// killed with SIGKILL mid-shard costs the job about one lease, not the 10-minute visibility
/// timeout it used to (the reliability report: 630 s instead of 44 s): the other worker takes the
/// shard over within a few leases of the kill. A worker stopped with SIGTERM releases its shard,
/// so the other takes it over at once, long before its lease would lapse. Two workers share a
/// job's shards. Each test has its own containers and queues (<see cref="StorageNames"/>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class WorkerLeaseTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Short, so the test is quick; the renewal and recovery logic is the same as with the default 30 s.</summary>
    private const int LeaseSeconds = 5;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private BlobServiceClient Blobs => new(azurite.ConnectionString);

    private MageProcess StartWorker(string prefix, int leaseSeconds = LeaseSeconds) =>
        MageProcess.Start(new Dictionary<string, string>(StorageNames.Environment(prefix)) { ["Mage__Storage__SourceContainers"] = $"{prefix}-src" }, "worker", "--lease", $"{leaseSeconds}", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");

    [Fact]
    public async Task A_worker_killed_mid_shard_delays_the_job_by_about_one_lease()
    {
        var (redelivered, _) = await InterruptMidShardAsync("lease-kill", "KILL", LeaseSeconds, 128 + 9);

        // The killed worker's last renewal was at most a lease ago; the survivor polls at least every
        // 2 s and has free slots (the job has 4 shards, 2 per worker). Four leases leave room for a
        // loaded machine and still fail the 10-minute visibility timeout this replaced by far.
        Assert.True(redelivered < TimeSpan.FromSeconds(4 * LeaseSeconds), $"the killed shard was taken over {redelivered.TotalSeconds:F1} s after the kill, more than 4 leases of {LeaseSeconds} s");
    }

    [Fact]
    public async Task A_worker_stopped_mid_shard_releases_its_shard_at_once()
    {
        // A lease as long as there is: a shard taken over within the test was released, not left to lapse.
        var (redelivered, _) = await InterruptMidShardAsync("lease-term", "TERM", WorkerDefaults.MaxLeaseSeconds, 0);

        Assert.True(redelivered < TimeSpan.FromSeconds(WorkerDefaults.MaxLeaseSeconds / 10), $"the stopped worker's shard was taken over {redelivered.TotalSeconds:F1} s after SIGTERM; its lease is {WorkerDefaults.MaxLeaseSeconds} s");
    }

    /// <summary>
    /// Two workers on a job of 4 shards; whichever starts a shard first gets <paramref name="signal"/>
    /// while it holds it and must exit with <paramref name="exitCode"/>. The other must start that
    /// shard again (attempt 2) and complete the job with every image once. Returns how long after
    /// the signal the shard was started again and the job completed (both written to the output).
    /// </summary>
    private async Task<(TimeSpan Redelivered, TimeSpan Completed)> InterruptMidShardAsync(string prefix, string signal, int leaseSeconds, int exitCode)
    {
        const int Images = 16;
        const string JobId = "interrupt-1";
        await using var first = StartWorker(prefix, leaseSeconds);
        await using var second = StartWorker(prefix, leaseSeconds);
        await first.WaitForErrorAsync("Worker started", StartTimeout);
        await second.WaitForErrorAsync("Worker started", StartTimeout);
        await SubmitAsync(prefix, JobId, Images, shardSize: 4);

        var waited = Stopwatch.StartNew();
        MageProcess? victim = null;
        while (victim is null)
        {
            victim = ShardsStarted(first.Error) > 0 ? first : ShardsStarted(second.Error) > 0 ? second : null;
            Assert.True(waited.Elapsed < StartTimeout, $"no worker started a shard within {StartTimeout.TotalSeconds} s\n{first}\n{second}");
            await Task.Delay(20);
        }

        victim.Signal(signal);
        var interrupted = Stopwatch.StartNew();
        var survivor = victim == first ? second : first;
        var code = await victim.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == exitCode, $"exit {code} on SIG{signal}\n{victim}");

        // Only the interrupted worker's shards can be started a second time.
        while (!RedoneShard().IsMatch(survivor.Error))
        {
            Assert.True(interrupted.Elapsed < TimeSpan.FromSeconds(leaseSeconds) + StartTimeout, $"the survivor did not take over the interrupted shard\n{victim}\n{survivor}");
            await Task.Delay(50);
        }

        var redelivered = interrupted.Elapsed;

        // The shard's work claim may still be the interrupted worker's (deferred until it lapses);
        // the survivor needs the rest of the job's time on top (generous: CI runs other test assemblies on the same cores).
        var status = await WaitForJobAsync(prefix, JobId, TimeSpan.FromSeconds(120) + WorkClaim.LeaseDuration, survivor);
        var completed = interrupted.Elapsed;
        output.WriteLine($"SIG{signal}: shard taken over {redelivered.TotalSeconds:F1} s and job completed {completed.TotalSeconds:F1} s after the signal (lease {leaseSeconds} s)");

        Assert.Equal((JobState.Completed, Images), (status.State, status.ImagesDone));
        Assert.Equal(Expected(Images), await EmbeddedNamesAsync(prefix, JobId));
        survivor.Signal("INT");
        Assert.Equal(0, await survivor.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return (redelivered, completed);
    }

    [Fact]
    public async Task Two_workers_share_a_jobs_shards_and_renewals_keep_long_shards_from_being_redelivered()
    {
        const string Prefix = "lease-share";
        const int Images = 128;
        const int ShardSize = 32; // a shard of 32 takes about two leases even on an idle machine (16 took 4.8 s of a 5 s lease), so renewals must keep it
        await using var first = StartWorker(Prefix);
        await using var second = StartWorker(Prefix);
        await first.WaitForErrorAsync("Worker started", StartTimeout);
        await second.WaitForErrorAsync("Worker started", StartTimeout);
        await SubmitAsync(Prefix, "share-1", Images, ShardSize);

        var status = await WaitForJobAsync(Prefix, "share-1", TimeSpan.FromSeconds(90), first, second);

        // The last shard completes the job before its worker deletes the message and counts it.
        var settled = Stopwatch.StartNew();
        while (ShardMilliseconds(first.Error).Concat(ShardMilliseconds(second.Error)).Count() < Images / ShardSize)
        {
            Assert.True(settled.Elapsed < TimeSpan.FromSeconds(30), $"the workers did not finish every shard message\n{first}\n{second}");
            await Task.Delay(100);
        }

        first.Signal("INT");
        second.Signal("INT");
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(Expected(Images), await EmbeddedNamesAsync(Prefix, "share-1"));
        var committed = new[] { first, second }.Select(w => ShardsCommitted(w.Out)).ToArray();
        Assert.True(committed.All(n => n >= 1) && committed.Sum() == Images / ShardSize, $"shards committed per worker: {string.Join(", ", committed)}\n{first}\n{second}");

        // Slots: no worker ever held more shards than it has slots, so neither could hoard the job.
        Assert.All(new[] { first, second }, w => Assert.True(MostShardsAtOnce(w.Error) <= 2, $"more than 2 shards at once\n{w}"));

        // Renewals: a shard that ran longer than the lease was not handed to the other worker.
        var longest = new[] { first, second }.SelectMany(w => ShardMilliseconds(w.Error)).Max();
        output.WriteLine($"shards committed per worker: {string.Join(", ", committed)}; longest shard {longest:F0} ms (lease {LeaseSeconds} s)");
        Assert.DoesNotContain("(attempt 2)", first.Error + second.Error, StringComparison.Ordinal);
        Assert.True(longest > LeaseSeconds * 1000, $"no shard ran longer than the {LeaseSeconds} s lease (longest {longest:F0} ms): the test shows nothing about renewals; make shards larger\n{first}\n{second}");
    }

    [Fact]
    public async Task A_message_whose_work_stays_claimed_is_deferred_and_never_poisoned()
    {
        const string Prefix = "lease-defer";
        await using var worker = StartWorker(Prefix);
        await worker.WaitForErrorAsync("Worker started", StartTimeout);

        // Another holder (alive: it renews) has the job's listing claim for longer than five deliveries take.
        var marker = Blobs.GetBlobContainerClient($"{Prefix}-jobs").GetBlobClient(ResultsLayout.JobClaim("defer-1"));
        await marker.UploadAsync(BinaryData.Empty);
        var holder = marker.GetBlobLeaseClient();
        await holder.AcquireAsync(WorkClaim.LeaseDuration);
        await SubmitAsync(Prefix, "defer-1", images: 4, shardSize: 4);

        var waited = Stopwatch.StartNew();
        while (!Regex.IsMatch(worker.Error, $@"job message \S+ deferred \(attempt {QueueWorker.MaxDequeueCount}\)"))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(90), $"the job message was not deferred {QueueWorker.MaxDequeueCount} times\n{worker}");
            await holder.RenewAsync();
            await Task.Delay(1000);
        }

        // Sent again as a fresh message (attempt 1 under a new id) rather than moved to the poison queue.
        while (JobMessageIds(worker.Error).Count < 2)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(120), $"the deferred job message was not sent again\n{worker}");
            await holder.RenewAsync();
            await Task.Delay(1000);
        }

        await holder.ReleaseAsync();
        var status = await WaitForJobAsync(Prefix, "defer-1", TimeSpan.FromSeconds(60), worker);

        Assert.Equal((JobState.Completed, 4), (status.State, status.ImagesDone));
        var poison = new QueueClient(azurite.ConnectionString, $"{Prefix}-jobs-poison");
        Assert.False((await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(1)).Value.Length > 0, $"a deferred message reached the poison queue\n{worker}");
        Assert.DoesNotContain("failed (attempt", worker.Error, StringComparison.Ordinal);
        worker.Signal("TERM");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Uploads <paramref name="images"/> small PNGs and sends the job message to the test's jobs queue.</summary>
    private async Task SubmitAsync(string prefix, string jobId, int images, int shardSize)
    {
        var source = Blobs.GetBlobContainerClient($"{prefix}-src");
        await source.CreateIfNotExistsAsync();
        for (var i = 0; i < images; i++)
        {
            using var image = TestImages.Create(40, 40, seed: 300 + i);
            await source.GetBlobClient($"in/img-{i:D3}.png").UploadAsync(BinaryData.FromBytes(PngEncoding.Encode(image)), overwrite: true);
        }

        var jobs = new QueueClient(azurite.ConnectionString, $"{prefix}-jobs", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await jobs.CreateIfNotExistsAsync();
        await jobs.SendMessageAsync($$"""{ "jobId": "{{jobId}}", "source": { "container": "{{prefix}}-src", "prefix": "in/" }, "shardSize": {{shardSize}} }""");
    }

    private async Task<JobStatus> WaitForJobAsync(string prefix, string jobId, TimeSpan timeout, params MageProcess[] workers)
    {
        var blob = Blobs.GetBlobContainerClient($"{prefix}-jobs").GetBlobClient($"jobs/{jobId}/status.json");
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if ((await blob.ExistsAsync()).Value)
            {
                var status = JsonSerializer.Deserialize<JobStatus>((await blob.DownloadContentAsync()).Value.Content.ToString(), JsonDefaults.Documents)!;
                if (status.State is JobState.Completed or JobState.Failed)
                {
                    return status;
                }
            }

            Assert.True(waited.Elapsed < timeout, $"job {jobId} not finished within {timeout.TotalSeconds} s\n{string.Join("\n", workers.Select(w => w.ToString()))}");
            await Task.Delay(250);
        }
    }

    /// <summary>The source names in the job's Parquet parts, sorted, duplicates kept.</summary>
    private async Task<List<string>> EmbeddedNamesAsync(string prefix, string jobId)
    {
        var results = Blobs.GetBlobContainerClient($"{prefix}-results");
        var names = new List<string>();
        await foreach (var item in results.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"jobs/{jobId}/out/", default))
        {
            using var stream = (await results.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToStream();
            names.AddRange((await ParquetTable.ReadAsync<EmbeddingRow>(stream)).Select(r => { Assert.Null(r.Error); return r.Name; }));
        }

        return names.Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> Expected(int images) => Enumerable.Range(0, images).Select(i => $"in/img-{i:D3}.png").ToList();

    private static int ShardsStarted(string log) => ShardStarted().Count(log);

    private static HashSet<string> JobMessageIds(string log) => [.. JobStarted().Matches(log).Select(m => m.Groups[1].Value)];

    private static int ShardsCommitted(string tally) => ShardTally().Match(tally) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static IEnumerable<double> ShardMilliseconds(string log) =>
        ShardFinished().Matches(log).Select(m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The most shard messages running at one time according to the started and finished lines of <paramref name="log"/>.</summary>
    private static int MostShardsAtOnce(string log)
    {
        var (running, most) = (0, 0);
        foreach (var line in log.Split('\n'))
        {
            running += ShardStarted().IsMatch(line) ? 1 : ShardFinished().IsMatch(line) ? -1 : 0;
            most = Math.Max(most, running);
        }

        return most;
    }

    [GeneratedRegex(@"job message (\S+) started \(attempt \d+\)")]
    private static partial Regex JobStarted();

    [GeneratedRegex(@"shard message \S+ started \(attempt \d+\)")]
    private static partial Regex ShardStarted();

    [GeneratedRegex(@"shard message \S+ started \(attempt 2\)")]
    private static partial Regex RedoneShard();

    [GeneratedRegex(@"shard message (\S+): \w+ in (\d+) ms")]
    private static partial Regex ShardFinished();

    [GeneratedRegex(@"shard committed (\d+)")]
    private static partial Regex ShardTally();
}

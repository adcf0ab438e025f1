using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// The submit step of a large job: makes sure the source container holds <c>blobs</c> small
/// blobs (created once, kept for later runs when storage keeps its data), lists them bare, then
/// runs the real <see cref="SubmitJobService.SubmitAsync"/> on a job over all of them, delivering
/// each continuation it sends to the jobs queue as a host would (at once), while a second,
/// uncounted client watches the shards queue and the status document.
/// </summary>
internal static class SubmitScenario
{
    private const string Prefix = "img/";

    /// <summary>Deliveries of job messages at once: the most listing ranges measured, so every count of ranges has the same workers.</summary>
    private const int Workers = 8;

    /// <summary>How long a worker that found the jobs queue empty waits before it looks again.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);

    public static async Task<SubmitResult> RunAsync(CoordinationHost host, string connection, string sourceName, int blobs, int folders, int shardSize, CancellationToken cancellationToken)
    {
        var source = host.Blobs.GetBlobContainerClient(sourceName);
        await source.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var (count, _, _) = await ListAsync(source, cancellationToken).ConfigureAwait(false);
        double? createSeconds = null;
        if (count < blobs)
        {
            var created = Stopwatch.StartNew();
            await CreateAsync(source, blobs, folders, cancellationToken).ConfigureAwait(false);
            createSeconds = Math.Round(created.Elapsed.TotalSeconds, 2);
            Console.WriteLine($"created {blobs} blobs in {createSeconds} s");
        }

        var (listed, pages, listSeconds) = await ListAsync(source, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"listed {listed} blobs in {pages} pages, {listSeconds:F2} s");

        var jobId = $"submit-{Guid.NewGuid().ToString("N")[..6]}";
        var message = JsonSerializer.Serialize(new
        {
            jobId,
            source = new { container = sourceName, prefix = Prefix },
            output = new { container = host.Storage.ResultsContainer, prefix = $"bench/{jobId}/" },
            shardSize,
        });

        // Watchers with their own clients, so their polling is not in the tally.
        var shardsQueue = new QueueClient(connection, host.Storage.ShardsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var jobsQueue = new QueueClient(connection, host.Storage.JobsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var statusBlob = new BlobClient(connection, host.Storage.JobsContainer, ResultsLayout.JobStatus(jobId));
        // Messages of an earlier size's job would read as this job's first shard.
        await shardsQueue.ClearMessagesAsync(cancellationToken).ConfigureAwait(false);
        await jobsQueue.ClearMessagesAsync(cancellationToken).ConfigureAwait(false);
        host.Tally.Reset();
        var clock = Stopwatch.StartNew();
        var deliveries = 0;
        JobStatus? last = null;
        var finished = new CancellationTokenSource();

        // Workers of the jobs queue as hosts would run them: each takes a message (hidden for longer
        // than any delivery runs, as a host's renewed lease keeps it), delivers it, and deletes it;
        // one that finds the message's work claimed leaves it to come back in a second.
        // The job message, its continuations and the messages of its listing ranges all go this way.
        async Task WorkAsync()
        {
            while (!finished.IsCancellationRequested)
            {
                var got = (await jobsQueue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false)).Value;
                if (got.Length == 0)
                {
                    // Eight workers polling an empty queue every few milliseconds swamped Azurite (a run of
                    // 100,000 blobs had not ended after 7 minutes); hosts back off too.
                    await Task.Delay(IdlePoll, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                JobStatus? after;
                try
                {
                    after = await host.Get<SubmitJobService>().SubmitAsync(got[0].Body.ToString(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Claimed by another delivery, or failed: back in a second, as a host retries it.
                    if (e is not WorkClaimedException)
                    {
                        Console.WriteLine($"delivery failed, retried: {e.GetType().Name}: {e.Message}");
                    }

                    await jobsQueue.UpdateMessageAsync(got[0].MessageId, got[0].PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false);
                    continue;
                }

                Interlocked.Increment(ref deliveries);
                try
                {
                    await jobsQueue.DeleteMessageAsync(got[0].MessageId, got[0].PopReceipt, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.Status is 400 or 404)
                {
                    // Azurite answered PopReceiptMismatch once (a 100,000-blob run, 4 ranges): the delivery is done; a copy that comes back finds its work committed.
                    Console.WriteLine($"delete of a delivered message failed: {e.ErrorCode}");
                }
                if (after is { } a && (a.State.IsFinal() || a.Enqueued))
                {
                    last = a;
                    await finished.CancelAsync().ConfigureAwait(false);
                }
            }
        }

        async Task<JobStatus?> DeliverAllAsync()
        {
            await jobsQueue.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkAsync, cancellationToken))).ConfigureAwait(false);
            return last;
        }

        var submit = Task.Run(DeliverAllAsync, cancellationToken);
        double? firstShard = null, running = null;
        while (!submit.IsCompleted && (firstShard is null || running is null))
        {
            if (firstShard is null && (await shardsQueue.PeekMessagesAsync(1, cancellationToken).ConfigureAwait(false)).Value.Length > 0)
            {
                firstShard = clock.Elapsed.TotalSeconds;
            }

            if (running is null && await IsRunningAsync(statusBlob, cancellationToken).ConfigureAwait(false))
            {
                running = clock.Elapsed.TotalSeconds;
            }

            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }

        var status = await submit.ConfigureAwait(false) ?? throw new InvalidOperationException($"job {jobId} was not submitted");
        var submitSeconds = clock.Elapsed.TotalSeconds;
        var requests = host.Tally.Snapshot();
        var timeline = host.Tally.Timeline();
        var firstSent = timeline.FirstOrDefault(r => r.Key.StartsWith("shardqueue POST", StringComparison.Ordinal));
        if (status.State != JobState.Running || !status.Enqueued)
        {
            throw new InvalidOperationException($"job {jobId} ended {status.State}: {status.Reason}");
        }

        running ??= submitSeconds;
        firstShard ??= submitSeconds;
        return new SubmitResult(
            listed, shardSize, createSeconds, Math.Round(listSeconds, 3), pages, Math.Round(listed / listSeconds),
            status.ShardsTotal, Math.Round(running.Value, 3), Math.Round(firstShard.Value, 3), Math.Round(submitSeconds, 3),
            Math.Round(status.ShardsTotal / running.Value, 1), Math.Round(status.ShardsTotal / Math.Max(1e-3, submitSeconds - running.Value), 1),
            requests)
        {
            Deliveries = deliveries,
            Folders = folders,
            FirstShardTimeline = firstSent is null ? [] : [.. timeline.Where(r => r.SentMs <= firstSent.SentMs)],
            ListedPerSecond = Math.Round(listed / running.Value),
        };
    }

    private static async Task<bool> IsRunningAsync(BlobClient statusBlob, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await statusBlob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            return JsonSerializer.Deserialize<JobStatus>(content.ToMemory().Span, JsonDefaults.Documents)?.State == JobState.Running;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private static async Task<(int Count, int Pages, double Seconds)> ListAsync(BlobContainerClient source, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int count = 0, pages = 0;
        await foreach (var page in source.GetBlobsAsync(BlobTraits.None, BlobStates.None, Prefix, cancellationToken).AsPages(pageSizeHint: 5000).ConfigureAwait(false))
        {
            pages++;
            count += page.Values.Count;
        }

        return (count, pages, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Uploads <c>img/{i:D7}.jpg</c> for every i below <paramref name="blobs"/> that is not there yet
    /// (32 bytes each); with <paramref name="folders"/>, in that many virtual folders of consecutive
    /// names, <c>img/f{folder:D4}/{i:D7}.jpg</c>.
    /// </summary>
    private static async Task CreateAsync(BlobContainerClient source, int blobs, int folders, CancellationToken cancellationToken)
    {
        var content = BinaryData.FromBytes(new byte[32]);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, blobs), parallel, async (i, ct) =>
        {
            try
            {
                await source.GetBlobClient(folders > 0 ? $"{Prefix}f{(long)i * folders / blobs:D4}/{i:D7}.jpg" : $"{Prefix}{i:D7}.jpg").UploadAsync(content, new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, ct).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // created by an earlier run
            }
        }).ConfigureAwait(false);
    }
}

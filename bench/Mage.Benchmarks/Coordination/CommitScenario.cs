using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// Shard commits of one job counted by N concurrent workers through the real
/// <see cref="ProcessShardService.ProcessAsync"/>. Every shard's Parquet part is committed
/// beforehand (an empty blob with the row counts in its metadata, as a worker leaves it), so each
/// message takes the service's "part already committed" path: read the status, read the shard list,
/// claim the shard, find the part, count it into the status with the ETag loop, and, for the last
/// shard, write the manifest and publish the completion. That is every storage request of a shard
/// commit except the embedding and the Parquet upload. A message that fails (a status write that
/// lost 64 times, a busy claim) is delivered again at once, as the host would after its visibility
/// timeout, and counted as a redelivery. Run with the status document alone (stripes 0, the design
/// before issue 16) and with stripes (the design after it), the same code measures both.
/// </summary>
internal static class CommitScenario
{
    private const int ImagesPerShard = 64;

    /// <param name="host">The services.</param>
    /// <param name="concurrency">Workers counting at once.</param>
    /// <param name="shards">Shards of the job.</param>
    /// <param name="stripes">The job's <see cref="JobStatus.Stripes"/>: 0 counts every shard in the status document (as before
    /// issue 16), -1 takes what the submit step sets (<see cref="JobStripe.CountFor"/>).</param>
    /// <param name="limit">No shard is started after this long.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<CommitResult> RunAsync(CoordinationHost host, int concurrency, int shards, int stripes, TimeSpan limit, CancellationToken cancellationToken)
    {
        stripes = stripes < 0 ? JobStripe.CountFor(shards) : Math.Min(stripes, shards);
        var storage = host.Storage;
        var jobId = $"commit-{concurrency}-{Guid.NewGuid().ToString("N")[..6]}";
        var prefix = $"bench/{jobId}/";
        await PrepareAsync(host, jobId, prefix, shards, stripes, cancellationToken).ConfigureAwait(false);

        var service = host.Get<ProcessShardService>();
        var latencies = new ConcurrentBag<double>();
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var next = -1;
        var redeliveries = 0;
        host.Tally.Reset();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < limit)
            {
                var shard = Interlocked.Increment(ref next);
                if (shard >= shards)
                {
                    return;
                }

                var message = JsonSerializer.Serialize(new ShardMessage(jobId, shard));
                while (true)
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        var outcome = await service.ProcessAsync(message, null, cancellationToken).ConfigureAwait(false);
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        outcomes.AddOrUpdate(outcome.Status.ToString(), 1, (_, n) => n + 1);
                        break;
                    }
                    catch (Exception e) when (e is RequestFailedException or WorkClaimedException)
                    {
                        var key = e is RequestFailedException r ? $"{r.Status} {r.ErrorCode}" : nameof(WorkClaimedException);
                        errors.AddOrUpdate(key, 1, (_, n) => n + 1);
                        Interlocked.Increment(ref redeliveries);
                    }
                }
            }
        }, cancellationToken))).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var requests = host.Tally.Snapshot();

        var final = (await host.Get<JobStatusStore>().GetAsync(jobId, cancellationToken).ConfigureAwait(false))!.Value.Status;
        var counted = latencies.Count;
        var completionEvents = await CountCompletionEventsAsync(host, jobId, cancellationToken).ConfigureAwait(false);
        var manifest = (await host.Blobs.GetBlobContainerClient(storage.ResultsContainer).GetBlobClient(ResultsLayout.JobManifest(prefix)).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

        long Sum(string key) => RequestTally.Sum(requests, key);
        var writes = Sum("status PUT") + Sum("stripe PUT");
        var conflicts = Sum("status PUT 412") + Sum("stripe PUT 412") + Sum("stripe PUT 409");
        var ok = Sum("status PUT 201") + Sum("stripe PUT 201");
        var total = requests.Values.Sum();
        return new CommitResult(
            concurrency, stripes, shards, counted, Math.Round(seconds, 3), Round(counted / seconds),
            writes, ok, conflicts, Round(writes / seconds), Round(ok / seconds), writes == 0 ? 0 : Math.Round((double)conflicts / writes, 4),
            Sum("status PUT"), Sum("status GET") + Sum("status HEAD"), Round((double)total / Math.Max(1, counted)), redeliveries,
            Round(Percentiles.Of(latencies, 50)), Round(Percentiles.Of(latencies, 99)), Round(Percentiles.Of(latencies, 100)),
            final.State == JobState.Completed && manifest,
            final.ShardsDone == counted && final.ImagesDone == (long)counted * ImagesPerShard,
            completionEvents,
            new SortedDictionary<string, int>(outcomes, StringComparer.Ordinal),
            new SortedDictionary<string, int>(errors, StringComparer.Ordinal),
            requests);
    }

    /// <summary>Shard lists, committed parts and a running status document, as the submit step and the embedding leave them.</summary>
    private static async Task PrepareAsync(CoordinationHost host, string jobId, string prefix, int shards, int stripes, CancellationToken cancellationToken)
    {
        var storage = host.Storage;
        var jobs = host.Blobs.GetBlobContainerClient(storage.JobsContainer);
        var results = host.Blobs.GetBlobContainerClient(storage.ResultsContainer);
        var names = Enumerable.Range(0, ImagesPerShard).Select(i => new ShardBlob($"img/{i:D7}.jpg", null)).ToArray();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, shards), parallel, async (n, ct) =>
        {
            var doc = new ShardDocument(jobId, n, storage.UploadsContainer, storage.ResultsContainer, prefix, new JobRecipe(JobKind.Embeddings, FeaturePooling.Linprobe, false, PreprocessMode.Linprobe), names);
            await jobs.GetBlobClient(ResultsLayout.JobShard(jobId, n)).UploadAsync(JsonDefaults.ToDocument(doc), ct).ConfigureAwait(false);
            await results.GetBlobClient(ResultsLayout.JobPart(prefix, n)).UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Metadata = new Dictionary<string, string>
                {
                    [OutputClaims.JobIdKey] = jobId, // a part without it is another job's: its shard would count as failed
                    [ProcessShardService.RowsKey] = ImagesPerShard.ToString(CultureInfo.InvariantCulture),
                    [ProcessShardService.FailedKey] = "0",
                },
            }, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        var now = DateTimeOffset.UtcNow;
        await host.Get<JobStatusStore>().TryCreateAsync(Running(jobId, prefix, shards, stripes, storage.UploadsContainer, storage.ResultsContainer, now), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The status document as the submit step leaves it once every shard is enqueued.</summary>
    private static JobStatus Running(string jobId, string prefix, int shards, int stripes, string source, string output, DateTimeOffset now) => new()
    {
        JobId = jobId,
        State = JobState.Running,
        CreatedAt = now,
        UpdatedAt = now,
        StartedAt = now,
        SourceContainer = source,
        OutputContainer = output,
        OutputPrefix = prefix,
        Pooling = FeaturePooling.Linprobe,
        Preprocess = PreprocessMode.Linprobe,
        ShardSize = ImagesPerShard,
        ImagesTotal = (long)shards * ImagesPerShard,
        ShardsTotal = shards,
        Stripes = stripes,
        Enqueued = true,
        DoneShards = Convert.ToBase64String(new byte[(shards + 7) / 8]),
    };

    private static async Task<int> CountCompletionEventsAsync(CoordinationHost host, string jobId, CancellationToken cancellationToken)
    {
        var events = host.Queues.GetQueueClient(host.Storage.EventsQueue);
        var count = 0;
        foreach (var message in (await events.PeekMessagesAsync(32, cancellationToken).ConfigureAwait(false)).Value)
        {
            var body = message.Body.ToString();
            if (body.Contains(MageEventTypes.JobCompleted, StringComparison.Ordinal) && body.Contains(jobId, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    private static double Round(double value) => Math.Round(value, 2);
}

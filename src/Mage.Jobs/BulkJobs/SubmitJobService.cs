using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Mage.Inference;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Starts a bulk job: validates the message, creates the status document, lists the source page
/// by page into shard blobs (never holding all names), then enqueues one message per shard.
/// </summary>
/// <remarks>
/// Thread-safe singleton. Redelivery: one copy at a time holds the job's claim
/// (<see cref="ResultsLayout.JobClaim"/>, a blob lease) while it lists and enqueues; a copy that
/// finds it held throws <see cref="WorkClaimedException"/> and is retried later. The status
/// document is created with If-None-Match: *, so a later copy finds it and only finishes what an
/// interrupted one left undone (listing again writes no shard twice; shards are enqueued again only while <see cref="JobStatus.Enqueued"/> is
/// false, and the shard worker ignores a shard that is already counted).
/// </remarks>
public sealed partial class SubmitJobService(
    BlobServiceClient blobs,
    QueueServiceClient queues,
    JobStatusStore statuses,
    WorkCommits commits,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    TimeProvider time,
    ILogger<SubmitJobService> logger)
{
    /// <summary>
    /// Shard lists written, and shard messages sent, at once. Each is one storage round trip, so
    /// one after another a million-image job's 15,625 of each took minutes before the last shard
    /// was enqueued (bench/results/2026-11-29-coordination).
    /// </summary>
    private const int WriteConcurrency = 16;

    /// <summary>
    /// Handles one job message. Returns the job's status, or null when the message named no usable
    /// job id or the jobs container is gone and cannot be recreated (then a failed event says so).
    /// </summary>
    public async Task<JobStatus?> SubmitAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return await SubmitOnceAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (StorageFailures.IsContainerNotFound(e))
        {
            // Every record of a job lives in the jobs container: without it, retrying only ends in the poison queue.
            var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
            if (await jobs.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw; // another container vanished: retried by the host as before
            }

            if (await ContainerRepair.EnsureAsync(jobs, storage.Value.CreateMissing, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                var jobId = JobMessageParser.Parse(message, limits.Value, storage.Value).JobId;
                LogFailed(logger, jobId ?? "(none)", problem);
                // Nowhere to keep a record (or an outbox): the event is all the user gets.
                await commits.PublishAsync(FailedEvent(jobId, jobId is null ? "jobs" : $"jobs/{jobId}", $"the job cannot be recorded: {problem}"), cancellationToken).ConfigureAwait(false);
                return null;
            }

            LogRecreated(logger, jobs.Name);
            return await SubmitOnceAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<JobStatus?> SubmitOnceAsync(string message, CancellationToken cancellationToken)
    {
        var parsed = JobMessageParser.Parse(message, limits.Value, storage.Value);
        if (!parsed.IsValid)
        {
            return await RejectAsync(message, parsed.JobId, parsed.Error!, cancellationToken).ConfigureAwait(false);
        }

        var spec = parsed.Spec!;

        // Listing and enqueuing are claimed: copies delivered together would each take the job for
        // an interrupted listing and enqueue every shard again. A copy that finds the claim held
        // throws so it is retried: it may be the holder's own message, back after the holder died
        // mid-listing, and dropping it would leave the job's remaining shards never enqueued.
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        await using var claim = await WorkCommits.HoldAsync(jobs.GetBlobClient(ResultsLayout.JobClaim(spec.JobId)), $"Job {spec.JobId}'s listing", cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var fresh = new JobStatus
        {
            JobId = spec.JobId,
            State = JobState.Listing,
            CreatedAt = now,
            UpdatedAt = now,
            SourceContainer = spec.SourceContainer,
            SourcePrefix = spec.SourcePrefix,
            SourceList = spec.BlobList,
            OutputContainer = spec.OutputContainer,
            OutputPrefix = spec.OutputPrefix,
            Kind = spec.Recipe.Kind,
            Pooling = spec.Recipe.Pooling,
            Normalize = spec.Recipe.Normalize,
            Preprocess = spec.Recipe.Preprocess,
            ShardSize = spec.ShardSize,
            Caller = spec.Caller,
        };

        if (await statuses.TryCreateAsync(fresh, cancellationToken).ConfigureAwait(false))
        {
            if (await CheckContainersAsync(spec, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                return await FailAsync(spec.JobId, problem, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            var existing = (await statuses.GetAsync(spec.JobId, cancellationToken).ConfigureAwait(false))?.Status;
            if (existing is null || existing.State.IsFinal() || (existing.State == JobState.Running && existing.Enqueued))
            {
                LogDuplicate(logger, spec.JobId, existing is null ? "unknown" : WireNames.Of(existing.State));
                await EnsureFailurePublishedAsync(existing, cancellationToken).ConfigureAwait(false);
                return existing;
            }

            if (existing.State == JobState.Running)
            {
                return await EnqueueAsync(spec.JobId, existing.ShardsTotal, cancellationToken).ConfigureAwait(false);
            }

            LogResuming(logger, spec.JobId);
            if (await CheckContainersAsync(spec, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                return await FailAsync(spec.JobId, problem, cancellationToken).ConfigureAwait(false);
            }
        }

        var (shards, images) = await ListAsync(spec, cancellationToken).ConfigureAwait(false);
        if (images == 0)
        {
            await OutputClaims.ReleaseAsync(blobs.GetBlobContainerClient(spec.OutputContainer), spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
            return await FailAsync(spec.JobId, "no images: the source matched no blobs.", cancellationToken).ConfigureAwait(false);
        }

        if (images > limits.Value.MaxImagesPerJob)
        {
            await DeleteShardsAsync(spec.JobId, cancellationToken).ConfigureAwait(false);
            await OutputClaims.ReleaseAsync(blobs.GetBlobContainerClient(spec.OutputContainer), spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
            return await FailAsync(spec.JobId, $"too many images: the source has {images} blobs; at most {limits.Value.MaxImagesPerJob} are allowed per job.", cancellationToken).ConfigureAwait(false);
        }

        await statuses.UpdateAsync(spec.JobId, s => s.State != JobState.Listing ? null : s with
        {
            State = JobState.Running,
            ShardsTotal = shards,
            ImagesTotal = images,
            StartedAt = time.GetUtcNow(),
            UpdatedAt = time.GetUtcNow(),
            DoneShards = Convert.ToBase64String(new byte[(shards + 7) / 8]),
            Stripes = JobStripe.CountFor(shards),
        }, cancellationToken).ConfigureAwait(false);
        LogListed(logger, spec.JobId, images, shards);
        return await EnqueueAsync(spec.JobId, shards, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> CheckContainersAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        if (!await blobs.GetBlobContainerClient(spec.SourceContainer).ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return $"source container '{spec.SourceContainer}' does not exist.";
        }

        if (spec.BlobList is { } list && !await blobs.GetBlobContainerClient(spec.SourceContainer).GetBlobClient(list).ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return $"source.list '{list}' does not exist in container '{spec.SourceContainer}'.";
        }

        var output = blobs.GetBlobContainerClient(spec.OutputContainer);
        if (!await output.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return $"output container '{spec.OutputContainer}' does not exist.";
        }

        // Claimed before anything is written: no other job's parts, manifest or claim may share it.
        return await OutputClaims.ClaimAsync(output, spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the shard lists while within the limit, and counts every image. Returns the shard and image counts.</summary>
    private async Task<(int Shards, long Images)> ListAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var max = limits.Value.MaxImagesPerJob;
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var pending = new List<ShardBlob>(spec.ShardSize);
        var batch = new List<ShardDocument>(WriteConcurrency);
        var shards = 0;
        long images = 0;

        // Shard lists go out WriteConcurrency at a time; each is created with If-None-Match: *, so
        // the order they land in does not matter, and a failure fails the listing as before.
        Task WriteBatchAsync()
        {
            var writing = batch.Select(doc => BlobWrites.TryCreateAsync(jobs.GetBlobClient(ResultsLayout.JobShard(spec.JobId, doc.Shard)), JsonDefaults.ToDocument(doc), "application/json", cancellationToken: cancellationToken)).ToList();
            batch.Clear();
            return Task.WhenAll(writing);
        }

        async Task FlushAsync()
        {
            batch.Add(new ShardDocument(spec.JobId, shards, spec.SourceContainer, spec.OutputContainer, spec.OutputPrefix,
                spec.Recipe, [.. pending]));
            shards++;
            pending.Clear();
            if (batch.Count == WriteConcurrency)
            {
                await WriteBatchAsync().ConfigureAwait(false);
            }
        }

        if (spec.BlobList is { } list)
        {
            // Streamed a line at a time, so a list of millions of names never sits in memory.
            var blob = blobs.GetBlobContainerClient(spec.SourceContainer).GetBlobClient(list);
            using var reader = new StreamReader(await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                images++;
                if (images > max)
                {
                    continue; // past the limit: only count, write nothing more
                }

                // A line that is not a blob name fails its own row when the shard reads it (ProcessShardService).
                pending.Add(new ShardBlob(line, null));
                if (pending.Count == spec.ShardSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
        }
        else if (spec.Blobs is { } explicitList)
        {
            foreach (var name in explicitList)
            {
                pending.Add(new ShardBlob(name, null));
                images++;
                if (pending.Count == spec.ShardSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
        }
        else
        {
            var source = blobs.GetBlobContainerClient(spec.SourceContainer);
            var pages = source.GetBlobsAsync(BlobTraits.None, BlobStates.None, spec.SourcePrefix, cancellationToken).AsPages(pageSizeHint: limits.Value.ListPageSize);
            await foreach (var page in pages.ConfigureAwait(false))
            {
                foreach (var item in page.Values)
                {
                    images++;
                    if (images > max)
                    {
                        continue; // past the limit: only count, write nothing more
                    }

                    pending.Add(new ShardBlob(item.Name, item.Properties.ETag?.ToString()));
                    if (pending.Count == spec.ShardSize)
                    {
                        await FlushAsync().ConfigureAwait(false);
                    }
                }
            }
        }

        if (pending.Count > 0 && images <= max)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        await WriteBatchAsync().ConfigureAwait(false);
        return (shards, images);
    }

    private async Task<JobStatus?> EnqueueAsync(string jobId, int shards, CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(storage.Value.ShardsQueue);
        var current = (await statuses.GetAsync(jobId, cancellationToken).ConfigureAwait(false))?.Status;
        var counted = current is null ? new HashSet<int>() : ShardBitmap.Indices(current.DoneShards).ToHashSet(); // decoded once, not once per shard
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = WriteConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, shards).Where(n => !counted.Contains(n)), parallel, async (n, ct) =>
            await queue.SendMessageAsync(JsonSerializer.Serialize(new ShardMessage(jobId, n)), ct).ConfigureAwait(false)).ConfigureAwait(false);

        var updated = await statuses.UpdateAsync(jobId, s => s.Enqueued ? null : s with { Enqueued = true, UpdatedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        return updated?.After;
    }

    private async Task DeleteShardsAsync(string jobId, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        await foreach (var item in jobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, ResultsLayout.JobShardsFolder(jobId), cancellationToken).ConfigureAwait(false))
        {
            await jobs.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Fails the job: its status document turning failed is the commit that the failed event announces.</summary>
    private async Task<JobStatus?> FailAsync(string jobId, string reason, CancellationToken cancellationToken)
    {
        JobStatus? after = null;
        await commits.CommitAsync(StatusBlob(jobId), FailedEvent(jobId, $"jobs/{jobId}", reason), async ct =>
        {
            var updated = await statuses.UpdateAsync(jobId, s => s.State.IsFinal() ? null : s with
            {
                State = JobState.Failed,
                Reason = reason,
                UpdatedAt = time.GetUtcNow(),
                CompletedAt = time.GetUtcNow(),
            }, ct).ConfigureAwait(false);
            after = updated?.After;

            // Failed by a concurrent copy first, which may have died before publishing: same id either way.
            return updated is { } u && u.Before.State != JobState.Failed && u.After.State == JobState.Failed ? CommitResult.Committed
                : after?.State == JobState.Failed ? CommitResult.CommittedBefore
                : CommitResult.NotCommitted;
        }, cancellationToken).ConfigureAwait(false);
        LogFailed(logger, jobId, reason);
        return after;
    }

    private async Task<JobStatus?> RejectAsync(string message, string? jobId, string reason, CancellationToken cancellationToken)
    {
        LogFailed(logger, jobId ?? "(none)", reason);
        if (jobId is not null)
        {
            // Checked before staging, so a redelivered bad message publishes nothing new; the id may
            // also belong to a good job that already exists, which this bad copy must not touch.
            if ((await statuses.GetAsync(jobId, cancellationToken).ConfigureAwait(false))?.Status is { } existing)
            {
                await EnsureFailurePublishedAsync(existing, cancellationToken).ConfigureAwait(false);
                return existing;
            }

            var now = time.GetUtcNow();
            var failed = new JobStatus { JobId = jobId, State = JobState.Failed, Reason = reason, CreatedAt = now, UpdatedAt = now, CompletedAt = now };
            JobStatus? result = failed;
            await commits.CommitAsync(StatusBlob(jobId), FailedEvent(jobId, $"jobs/{jobId}", reason), async ct =>
            {
                if (await statuses.TryCreateAsync(failed, ct).ConfigureAwait(false))
                {
                    return CommitResult.Committed;
                }

                // Created concurrently: publish a leftover only if that copy failed the job too.
                result = (await statuses.GetAsync(jobId, ct).ConfigureAwait(false))?.Status;
                return result?.State == JobState.Failed ? CommitResult.CommittedBefore : CommitResult.NotCommitted;
            }, cancellationToken).ConfigureAwait(false);
            return result;
        }

        var hash = MessageJson.Hash(message);
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var record = new RejectedJobRecord(RecordStatus.Failed, ErrorReason.InvalidMessage, reason, message.Length > 4096 ? message[..4096] : message);
        await commits.CommitRecordAsync(jobs.GetBlobClient(ResultsLayout.RejectedJob(hash)), record, FailedEvent(null, $"jobs/_rejected/{hash}", reason), cancellationToken).ConfigureAwait(false);

        return null;
    }

    /// <summary>A delivery that finds the job failed publishes what a crashed delivery left in the status document's outbox.</summary>
    private Task EnsureFailurePublishedAsync(JobStatus? status, CancellationToken cancellationToken) =>
        status?.State == JobState.Failed ? commits.EnsurePublishedAsync(StatusBlob(status.JobId), cancellationToken) : Task.CompletedTask;

    private BlobClient StatusBlob(string jobId) =>
        blobs.GetBlobContainerClient(storage.Value.JobsContainer).GetBlobClient(ResultsLayout.JobStatus(jobId));

    private static MageEventDraft FailedEvent(string? jobId, string subject, string reason) =>
        new(MageEventTypes.JobFailed, subject, "failed", new MageEventData(jobId, null, RecordStatus.Failed, [], reason));

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} already exists in state {State}; duplicate message ignored")]
    private static partial void LogDuplicate(ILogger logger, string jobId, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} was interrupted while listing; listing again")]
    private static partial void LogResuming(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} listed {Images} images into {Shards} shards")]
    private static partial void LogListed(ILogger logger, string jobId, long images, int shards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The jobs container {Container} was missing; created it again")]
    private static partial void LogRecreated(ILogger logger, string container);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string jobId, string reason);
}

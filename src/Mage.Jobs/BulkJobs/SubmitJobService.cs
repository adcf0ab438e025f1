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
/// Starts a bulk job and lists its source into shards, a slice of pages per delivery of the job
/// message (never holding all names): each page's shards are written, committed with the position
/// after the page in the status document, and enqueued at once, so shards run while the listing
/// goes on. A delivery that stops with the listing unfinished sends the job message again, and that
/// copy goes on from the committed position; so no delivery runs for the whole listing.
/// </summary>
/// <remarks>
/// Thread-safe singleton. Redelivery: one copy at a time holds the job's claim
/// (<see cref="ResultsLayout.JobClaim"/>, a blob lease) while it lists and enqueues; a copy that
/// finds it held throws <see cref="WorkClaimedException"/> and is retried later. The status
/// document is created with If-None-Match: *, and every page is committed with If-Match on it, so
/// any copy of the job message (redelivered, or the continuation) only goes on from the last
/// committed page: a page read again writes the same shard documents under the same numbers
/// (<see cref="JobStatus.ShardsTotal"/> so far), shards committed but not recorded as sent
/// (<see cref="JobStatus.ShardsEnqueued"/>) are sent again, and the shard worker ignores a shard that
/// is already counted.
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

    // Views over the injected store, clients and clock, not state (as in ProcessShardService).
    private ShardCounter Counter => new(statuses, time);

    private JobCompletion Completion => new(blobs, statuses, commits, storage.Value.JobsContainer, logger);

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
        var status = spec.ListRange is { } range
            ? await ListRangeUnderClaimAsync(spec, range, cancellationToken).ConfigureAwait(false)
            : await ListUnderClaimAsync(spec, message, cancellationToken).ConfigureAwait(false);

        // A job listed in ranges goes on in its ranges' messages, each sent again until its range ends.
        if (status?.State == JobState.Listing && (spec.ListRange is { } r ? status.RangeOf(r) is { Ended: false } : status.ListRanges is null))
        {
            // Sent once the claim is freed, so the continuation does not find it held; a crash before
            // this line leaves the message itself to come back and go on the same way.
            await queues.GetQueueClient(storage.Value.JobsQueue).SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            LogContinued(logger, spec.JobId, status.ImagesTotal, status.ShardsTotal);
        }

        return status;
    }

    /// <summary>Creates or reads the job's status, then lists one slice (or finishes a listing that ended), under the job's claim.</summary>
    private async Task<JobStatus?> ListUnderClaimAsync(JobSpec spec, string message, CancellationToken cancellationToken)
    {
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

        var status = fresh;
        if (await statuses.TryCreateAsync(fresh, cancellationToken).ConfigureAwait(false))
        {
            if (await CheckContainersAsync(spec, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                return await FailAsync(spec.JobId, problem, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            var existing = (await statuses.GetDocumentAsync(spec.JobId, cancellationToken).ConfigureAwait(false))?.Status;
            if (existing is null || existing.State.IsFinal() || (existing.State == JobState.Running && existing.Enqueued))
            {
                LogDuplicate(logger, spec.JobId, existing is null ? "unknown" : WireNames.Of(existing.State));
                await EnsureFailurePublishedAsync(existing, cancellationToken).ConfigureAwait(false);
                if (existing?.State == JobState.Completed)
                {
                    // The listing may have completed the job (every shard done before it ended) and died before the manifest.
                    await Completion.EnsureAsync(existing, cancellationToken).ConfigureAwait(false);
                }

                return existing;
            }

            if (existing.ListRanges is not null)
            {
                return await SendRangesAsync(existing, message, cancellationToken).ConfigureAwait(false);
            }

            if (existing.State == JobState.Running)
            {
                return await FinishAsync(existing, existing.ShardsEnqueued, cancellationToken).ConfigureAwait(false);
            }

            // Nothing committed yet: the delivery that created the status may have died before its checks.
            if (existing.ListCursor is null && existing.ShardsTotal == 0 && await CheckContainersAsync(spec, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                return await FailAsync(spec.JobId, problem, cancellationToken).ConfigureAwait(false);
            }

            LogResuming(logger, spec.JobId, existing.ImagesTotal);
            status = existing;
        }

        if (spec.SourcePrefix is not null && limits.Value.ListRanges > 1 && status.ListCursor is null && status.ShardsTotal == 0
            && await FanOutAsync(spec, message, cancellationToken).ConfigureAwait(false) is { } fanned)
        {
            return fanned;
        }

        return await ListSliceAsync(spec, status, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Lists up to <see cref="LimitSettings.ListPagesPerMessage"/> pages from the committed position:
    /// each page's shards are written, committed (the position after the page, the totals so far)
    /// and enqueued before the next page is read. Returns the status after: still listing, running
    /// (the listing ended and every shard is enqueued), or failed.
    /// </summary>
    private async Task<JobStatus?> ListSliceAsync(JobSpec spec, JobStatus status, CancellationToken cancellationToken)
    {
        // Shards a delivery committed and died before recording as sent: sent again (a shard counted since is skipped).
        var sent = status.ShardsEnqueued;
        if (sent < status.ShardsTotal)
        {
            await SendAsync(spec.JobId, await UncountedAsync(spec.JobId, sent, status.ShardsTotal, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            sent = status.ShardsTotal;
        }

        var listETag = status.SourceListETag;
        if (spec.BlobList is { } list && listETag is null)
        {
            listETag = (await blobs.GetBlobContainerClient(spec.SourceContainer).GetBlobClient(list).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag.ToString();
        }

        // A job's first page is small, so its first shards go out after a few writes whatever its size.
        var starting = status.ListCursor is null && status.ShardsTotal == 0;
        var pages = new SourcePages(blobs, spec, starting ? FirstPageSize(spec.ShardSize) : PageSize(spec.ShardSize), PageSize(spec.ShardSize), storage.Value);
        try
        {
            await foreach (var page in pages.ReadAsync(status.ListCursor, listETag, limits.Value.ListPagesPerMessage, cancellationToken).ConfigureAwait(false))
            {
                var images = status.ImagesTotal + page.Blobs.Count;
                var ended = page.Next is null;
                if (images > limits.Value.MaxImagesPerJob)
                {
                    return await TooManyAsync(spec, status, images, cancellationToken).ConfigureAwait(false);
                }

                if (ended && images == 0)
                {
                    await OutputClaims.ReleaseAsync(blobs.GetBlobContainerClient(spec.OutputContainer), spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
                    return await FailAsync(spec.JobId, "no images: the source matched no blobs.", cancellationToken).ConfigureAwait(false);
                }

                var first = status.ShardsTotal;
                var shards = page.Blobs.Chunk(spec.ShardSize).Select((blobsOfShard, k) => new ShardDocument(
                    spec.JobId, first + k, spec.SourceContainer, spec.OutputContainer, spec.OutputPrefix, spec.Recipe, blobsOfShard)).ToList();
                await WriteShardsAsync(spec.JobId, shards, cancellationToken).ConfigureAwait(false);

                // The page's commit: conditional on the position this delivery read from, so of two
                // copies that ever listed the same page (a claim lost to a stalled renewal) one commits.
                var from = status;
                var now = time.GetUtcNow();
                var committed = await statuses.UpdateAsync(spec.JobId, s => s.State != JobState.Listing || s.ShardsTotal != from.ShardsTotal || s.ListCursor != from.ListCursor ? null : s with
                {
                    State = ended ? JobState.Running : JobState.Listing,
                    ListCursor = page.Next,
                    SourceListETag = listETag,
                    ShardsTotal = first + shards.Count,
                    ImagesTotal = images,
                    ShardsEnqueued = Math.Max(s.ShardsEnqueued, sent),

                    // Fixed before any shard is enqueued: a job that is all one page gets as many as its size needs.
                    Stripes = s.Stripes > 0 ? s.Stripes : ended ? JobStripe.CountFor(first + shards.Count) : JobStripe.MaxStripes,
                    StartedAt = s.StartedAt ?? now,
                    UpdatedAt = now,
                }, cancellationToken).ConfigureAwait(false);
                if (committed is not { } c || ReferenceEquals(c.Before, c.After))
                {
                    LogMoved(logger, spec.JobId);
                    return committed?.After; // another copy moved the listing on: it carries on from there
                }

                status = c.After;
                await SendAsync(spec.JobId, Enumerable.Range(first, shards.Count), cancellationToken).ConfigureAwait(false);
                sent = status.ShardsTotal;
                if (ended)
                {
                    LogListed(logger, spec.JobId, status.ImagesTotal, status.ShardsTotal);
                    return await FinishAsync(status, sent, cancellationToken).ConfigureAwait(false);
                }

            }
        }
        catch (RequestFailedException e) when (spec.BlobList is not null && StorageFailures.IsConditionFailed(e))
        {
            return await FailAsync(spec.JobId, $"source.list '{spec.BlobList}' changed while it was being listed; submit the job again with a new jobId.", cancellationToken).ConfigureAwait(false);
        }

        var recorded = await statuses.UpdateAsync(spec.JobId, s => s.ShardsEnqueued >= sent ? null : s with { ShardsEnqueued = sent }, cancellationToken).ConfigureAwait(false);
        return recorded?.After;
    }

    /// <summary>
    /// Names per listing page: <see cref="LimitSettings.ListPageSize"/> rounded down to whole shards
    /// (at least one), so the shards of a page are full but for the job's last.
    /// </summary>
    private int PageSize(int shardSize) => Math.Max(1, limits.Value.ListPageSize / shardSize) * shardSize;

    /// <summary>
    /// Names in a job's first page: the shards written in one round (<see cref="WriteConcurrency"/>),
    /// at most a full page. On Azurite a first page of 4,992 names took 4.6-7.4 s to its first shard
    /// message (bench/results/2026-12-07-listing).
    /// </summary>
    private int FirstPageSize(int shardSize) => Math.Min(PageSize(shardSize), WriteConcurrency * shardSize);

    /// <summary>
    /// Writes a page's shard documents, <see cref="WriteConcurrency"/> at a time, each created only if
    /// absent. One that exists was written by a delivery that died before committing the page: kept
    /// when it holds the same names, else replaced, since no message names a shard before its commit
    /// (a page read again came back split differently).
    /// </summary>
    private async Task WriteShardsAsync(string jobId, List<ShardDocument> shards, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = WriteConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(shards, parallel, async (doc, ct) =>
        {
            var blob = jobs.GetBlobClient(ResultsLayout.JobShard(jobId, doc.Shard));
            var content = JsonDefaults.ToDocument(doc);
            if (!await BlobWrites.TryCreateAsync(blob, content, "application/json", cancellationToken: ct).ConfigureAwait(false)
                && (await BlobWrites.TryDownloadAsync(blob, ct).ConfigureAwait(false))?.Content.ToMemory().Span.SequenceEqual(content.ToMemory().Span) != true)
            {
                await BlobWrites.WriteAsync(blob, content, "application/json", ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// After the listing's last commit: sends the shards from <paramref name="sentBefore"/> not sent
    /// yet, completes the job (status, manifest and event) when every shard finished while it was
    /// listing, and records every shard as enqueued.
    /// </summary>
    private async Task<JobStatus?> FinishAsync(JobStatus status, int sentBefore, CancellationToken cancellationToken)
    {
        await SendAsync(status.JobId, await UncountedAsync(status.JobId, sentBefore, status.ShardsTotal, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var folded = await Counter.TryCompleteAsync(status, cancellationToken).ConfigureAwait(false);
        try
        {
            await Completion.EnsureAsync(folded, cancellationToken).ConfigureAwait(false);
        }
        catch (WorkClaimedException)
        {
            // A shard worker is finishing the job at this moment; its message is retried if it dies.
        }

        var updated = await statuses.UpdateAsync(status.JobId, s => s.Enqueued ? null : s with { Enqueued = true, ShardsEnqueued = s.ShardsTotal, UpdatedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        return updated?.After;
    }

    /// <summary>Shards <paramref name="from"/> to <paramref name="to"/> - 1 not counted yet (the status document and its stripes).</summary>
    private async Task<List<int>> UncountedAsync(string jobId, int from, int to, CancellationToken cancellationToken)
    {
        if (from >= to)
        {
            return [];
        }

        var current = (await statuses.GetAsync(jobId, cancellationToken).ConfigureAwait(false))?.Status;
        var counted = current is null ? [] : ShardBitmap.Indices(current.DoneShards).ToHashSet(); // decoded once, not once per shard
        return [.. Enumerable.Range(from, to - from).Where(n => !counted.Contains(n))];
    }

    private async Task SendAsync(string jobId, IEnumerable<int> shards, CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(storage.Value.ShardsQueue);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = WriteConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(shards, parallel, async (n, ct) =>
            await queue.SendMessageAsync(JsonSerializer.Serialize(new ShardMessage(jobId, n)), ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>
    /// Fails a job whose listing passed <see cref="LimitSettings.MaxImagesPerJob"/>. Its shard lists
    /// and stripes go; shards that already ran keep their parts, so the output prefix stays claimed
    /// by the job unless none was enqueued.
    /// </summary>
    private async Task<JobStatus?> TooManyAsync(JobSpec spec, JobStatus status, long images, CancellationToken cancellationToken)
    {
        var max = limits.Value.MaxImagesPerJob;
        var reason = $"too many images: the source has at least {images} blobs; at most {max} are allowed per job.";
        if (status.ShardsTotal > 0)
        {
            reason += $" The parts of the {status.ShardsTotal} shards listed before that stay under the output prefix.";
        }

        var failed = await FailAsync(spec.JobId, reason, cancellationToken).ConfigureAwait(false);
        await DeleteShardsAsync(spec.JobId, cancellationToken).ConfigureAwait(false);
        await statuses.DeleteStripesAsync(spec.JobId, cancellationToken).ConfigureAwait(false);
        if (status.ShardsTotal == 0)
        {
            await OutputClaims.ReleaseAsync(blobs.GetBlobContainerClient(spec.OutputContainer), spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
        }

        return failed;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} goes on listing after {Images} images")]
    private static partial void LogResuming(ILogger logger, string jobId, long images);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} has listed {Images} images into {Shards} shards so far; the listing goes on in the next delivery of its message")]
    private static partial void LogContinued(ILogger logger, string jobId, long images, int shards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}'s listing was moved on by another delivery; this one stops")]
    private static partial void LogMoved(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} listed {Images} images into {Shards} shards")]
    private static partial void LogListed(ILogger logger, string jobId, long images, int shards);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The jobs container {Container} was missing; created it again")]
    private static partial void LogRecreated(ILogger logger, string container);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string jobId, string reason);
}

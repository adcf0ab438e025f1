using System.Text.Json;
using System.Text.Json.Nodes;
using Mage.Inference;
using Mage.Jobs.Coordination;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Listing in ranges (<see cref="LimitSettings.ListRanges"/>): a job over a prefix whose blobs lie
/// in virtual folders is listed by several ranges at once, each a claimed unit of work with its own
/// messages on the jobs queue (the job message with <see cref="JobMessage.ListRange"/>), taking
/// folders one after another from the job's folder list.
/// </summary>
/// <remarks>
/// Every range commits its pages in the one status document, with If-Match, so shard numbers are
/// handed out by the commit itself (from <see cref="JobStatus.ShardsTotal"/> as it is then) and two
/// ranges never take the same. Since a page's numbers are known only once it is committed, its
/// names are first kept in a blob of their own (<see cref="ResultsLayout.JobListPage"/>), named in
/// the commit (<see cref="ListRange.PendingPage"/>): a delivery that dies after the commit leaves
/// the shards to the range's next delivery, which writes them from that blob. One that dies before
/// the commit leaves nothing committed, and the page is read again from the range's position.
/// </remarks>
public sealed partial class SubmitJobService
{
    /// <summary>
    /// Splits a fresh job's listing into ranges when its prefix holds at least two folders: the
    /// folder list is written, the ranges committed, and their messages sent. Null when the job is
    /// to be listed as one range.
    /// </summary>
    private async Task<JobStatus?> FanOutAsync(JobSpec spec, string message, CancellationToken cancellationToken)
    {
        var source = blobs.GetBlobContainerClient(spec.SourceContainer);
        if (await SourceFolders.FindAsync(source, spec.SourcePrefix!, limits.Value.ListPageSize, storage.Value, cancellationToken).ConfigureAwait(false) is not { } folders)
        {
            return null;
        }

        // Not committed yet: a list left by a delivery that died before its commit is replaced.
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        await BlobWrites.WriteAsync(jobs.GetBlobClient(ResultsLayout.JobListFolders(spec.JobId)), JsonDefaults.ToDocument(folders), "application/json", cancellationToken).ConfigureAwait(false);

        var count = Math.Min(limits.Value.ListRanges, folders.Count);
        var now = time.GetUtcNow();
        var committed = await statuses.UpdateAsync(spec.JobId, s => s.State != JobState.Listing || s.ListRanges is not null || s.ListCursor is not null || s.ShardsTotal != 0 ? null : s with
        {
            ListRanges = [.. Enumerable.Range(0, count).Select(i => new ListRange { Index = i, Folder = i })],
            ListFolders = folders.Count,
            ListFoldersTaken = count,
            Stripes = JobStripe.MaxStripes, // fixed before any shard runs; the total is known only when every range has ended
            StartedAt = s.StartedAt ?? now,
            UpdatedAt = now,
        }, cancellationToken).ConfigureAwait(false);
        if (committed?.After is not { ListRanges: not null } after)
        {
            return committed?.After;
        }

        LogFannedOut(logger, spec.JobId, folders.Count, count);
        return await SendRangesAsync(after, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The job message's part in a job listed in ranges: sends a message for each range with work
    /// left, once (<see cref="JobStatus.ListRangesSent"/>; a delivery that died before recording it
    /// sends them again, and a range's claim keeps copies from listing at once).
    /// </summary>
    private async Task<JobStatus?> SendRangesAsync(JobStatus status, string message, CancellationToken cancellationToken)
    {
        if (status.ListRanges is not { } ranges || status.ListRangesSent || status.State.IsFinal())
        {
            return status;
        }

        var queue = queues.GetQueueClient(storage.Value.JobsQueue);
        foreach (var range in ranges.Where(r => !r.Ended || r.PendingPage is not null))
        {
            var copy = JsonNode.Parse(message)!.AsObject();
            copy["listRange"] = range.Index;
            await queue.SendMessageAsync(copy.ToJsonString(), cancellationToken).ConfigureAwait(false);
        }

        var recorded = await statuses.UpdateAsync(status.JobId, s => s.ListRangesSent ? null : s with { ListRangesSent = true }, cancellationToken).ConfigureAwait(false);
        return recorded?.After;
    }

    /// <summary>
    /// One delivery of range <paramref name="index"/>, under the range's claim: first the shards of
    /// a page it committed and may not have sent, then up to <see cref="LimitSettings.ListPagesPerMessage"/>
    /// pages from its position; once every range has ended, the job is recorded as enqueued and
    /// completed if its shards are all counted.
    /// </summary>
    private async Task<JobStatus?> ListRangeUnderClaimAsync(JobSpec spec, int index, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        await using var claim = await WorkCommits.HoldAsync(jobs.GetBlobClient(ResultsLayout.JobRangeClaim(spec.JobId, index)), $"Range {index} of job {spec.JobId}'s listing", cancellationToken).ConfigureAwait(false);

        var status = (await statuses.GetDocumentAsync(spec.JobId, cancellationToken).ConfigureAwait(false))?.Status;
        if (status?.RangeOf(index) is not { } range || status.State.IsFinal())
        {
            LogRangeIgnored(logger, spec.JobId, index, status is null ? "unknown" : WireNames.Of(status.State));
            return status;
        }

        if (range.PendingPage is { } pending)
        {
            await WritePendingAsync(spec, range, null, cancellationToken).ConfigureAwait(false);
            status = await ClearPendingAsync(spec.JobId, index, pending, cancellationToken).ConfigureAwait(false) ?? status;
        }

        if (status.State == JobState.Listing && status.RangeOf(index) is { Ended: false })
        {
            status = await ListRangeSliceAsync(spec, status, index, cancellationToken).ConfigureAwait(false);
        }

        if (status?.State != JobState.Running)
        {
            return status;
        }

        // Every range has ended: whoever sees the job running completes it if its shards are all
        // counted (those counted while it was listing wait in their stripes).
        var folded = await Counter.TryCompleteAsync(status, cancellationToken).ConfigureAwait(false);
        try
        {
            await Completion.EnsureAsync(folded, cancellationToken).ConfigureAwait(false);
        }
        catch (WorkClaimedException)
        {
            // A shard worker is finishing the job at this moment; its message is retried if it dies.
        }

        return folded;
    }

    /// <summary>
    /// Lists pages of the range from its committed position, a folder after another, each page
    /// committed and its shards written and sent before the next commit. Returns the status after
    /// the last commit (the range's last page cleared as sent), or the job failed.
    /// </summary>
    private async Task<JobStatus?> ListRangeSliceAsync(JobSpec spec, JobStatus status, int index, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var listed = await BlobWrites.TryDownloadAsync(jobs.GetBlobClient(ResultsLayout.JobListFolders(spec.JobId)), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"Job {spec.JobId} is listed in ranges but has no folder list.");
        var folders = JsonSerializer.Deserialize<List<ListFolder>>(listed.Content.ToMemory().Span, JsonDefaults.Documents)!;

        var firstPageSize = status.ShardsTotal == 0 ? FirstPageSize(spec.ShardSize) : PageSize(spec.ShardSize);
        string? sentPage = null;
        var pagesLeft = limits.Value.ListPagesPerMessage;
        while (pagesLeft > 0 && status.State == JobState.Listing && status.RangeOf(index) is { Ended: false } range)
        {
            var pages = new SourcePages(blobs, spec, firstPageSize, PageSize(spec.ShardSize), storage.Value);
            firstPageSize = PageSize(spec.ShardSize);
            await foreach (var page in pages.ReadFolderAsync(folders[range.Folder], range.Cursor, pagesLeft, cancellationToken).ConfigureAwait(false))
            {
                pagesLeft--;
                var (after, pageName, moved) = await CommitRangePageAsync(spec, status, index, page, cancellationToken).ConfigureAwait(false);
                if (moved || after is null || after.State.IsFinal())
                {
                    if (moved)
                    {
                        LogMoved(logger, spec.JobId);
                    }

                    return after; // another delivery moved the range on, or the job failed
                }

                status = after;
                sentPage = pageName ?? sentPage;
                if (status.RangeOf(index)!.Folder != range.Folder || page.Next is null)
                {
                    break; // the folder ended: the next one is read from its start
                }
            }
        }

        if (status.State is JobState.Running && status.ImagesTotal == 0)
        {
            await OutputClaims.ReleaseAsync(blobs.GetBlobContainerClient(spec.OutputContainer), spec.OutputPrefix, spec.JobId, cancellationToken).ConfigureAwait(false);
            return await FailAsync(spec.JobId, "no images: the source matched no blobs.", cancellationToken).ConfigureAwait(false);
        }

        return sentPage is null && status.State == JobState.Listing ? status : await ClearPendingAsync(spec.JobId, index, sentPage, cancellationToken).ConfigureAwait(false) ?? status;
    }

    /// <summary>
    /// Commits one page of range <paramref name="index"/>: its names kept in a page blob, then the
    /// range's next position, the page's shard numbers (from the total at the commit) and the totals
    /// in the status document, If-Match; then the shard documents written and the messages sent.
    /// Returns the status after and the page blob (null for an empty page), or whether another
    /// delivery moved the range on (nothing committed).
    /// </summary>
    private async Task<(JobStatus? After, string? PageName, bool Moved)> CommitRangePageAsync(JobSpec spec, JobStatus from, int index, SourcePage page, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var shardCount = (page.Blobs.Count + spec.ShardSize - 1) / spec.ShardSize;
        string? pageName = null;
        if (shardCount > 0)
        {
            pageName = ResultsLayout.JobListPage(spec.JobId, index, Guid.NewGuid().ToString("N"));
            await BlobWrites.TryCreateAsync(jobs.GetBlobClient(pageName), JsonDefaults.ToDocument(page.Blobs), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var read = from.RangeOf(index)!;
        var now = time.GetUtcNow();
        var committed = await statuses.UpdateAsync(spec.JobId, s =>
        {
            if (s.State != JobState.Listing || s.RangeOf(index) is not { } r || r.Ended || r.Folder != read.Folder || r.Cursor != read.Cursor)
            {
                return null;
            }

            var takes = page.Next is null && s.ListFoldersTaken < s.ListFolders;
            var next = (page.Next is not null ? r with { Cursor = page.Next }
                : takes ? r with { Folder = s.ListFoldersTaken, Cursor = null }
                : r with { Cursor = null, Ended = true }) with
            {
                PendingFirst = shardCount > 0 ? s.ShardsTotal : 0,
                PendingShards = shardCount,
                PendingPage = pageName,
            };
            var after = s.WithRange(next) with
            {
                ListFoldersTaken = takes ? s.ListFoldersTaken + 1 : s.ListFoldersTaken,
                ShardsTotal = s.ShardsTotal + shardCount,
                ImagesTotal = s.ImagesTotal + page.Blobs.Count,
                UpdatedAt = now,
            };
            return after.ListRanges!.All(x => x.Ended) ? after with { State = JobState.Running } : after;
        }, cancellationToken).ConfigureAwait(false);
        if (committed is not { } c || ReferenceEquals(c.Before, c.After))
        {
            if (pageName is not null)
            {
                await jobs.DeleteBlobIfExistsAsync(pageName, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return (committed?.After, null, true);
        }

        var status = c.After;
        if (status.ImagesTotal > limits.Value.MaxImagesPerJob)
        {
            return (await TooManyAsync(spec, status, status.ImagesTotal, cancellationToken).ConfigureAwait(false), null, false);
        }

        if (status.RangeOf(index) is { PendingPage: not null } committedRange)
        {
            await WritePendingAsync(spec, committedRange, page.Blobs, cancellationToken).ConfigureAwait(false);
        }

        if (status.State == JobState.Running)
        {
            LogListed(logger, spec.JobId, status.ImagesTotal, status.ShardsTotal);
        }

        return (status, pageName, false);
    }

    /// <summary>
    /// Writes and sends the shards of the range's pending page (<see cref="ListRange.PendingPage"/>),
    /// from <paramref name="names"/> or else the page blob, then deletes the page blob. A page blob
    /// that is gone was deleted after its shards were sent.
    /// </summary>
    private async Task WritePendingAsync(JobSpec spec, ListRange range, IReadOnlyList<ShardBlob>? names, CancellationToken cancellationToken)
    {
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var pageBlob = jobs.GetBlobClient(range.PendingPage);
        if (names is null)
        {
            if (await BlobWrites.TryDownloadAsync(pageBlob, cancellationToken).ConfigureAwait(false) is not { } kept)
            {
                return;
            }

            names = JsonSerializer.Deserialize<List<ShardBlob>>(kept.Content.ToMemory().Span, JsonDefaults.Documents)!;
        }

        var shards = names.Chunk(spec.ShardSize).Select((blobsOfShard, k) => new ShardDocument(
            spec.JobId, range.PendingFirst + k, spec.SourceContainer, spec.OutputContainer, spec.OutputPrefix, spec.Recipe, blobsOfShard)).ToList();
        if (shards.Count != range.PendingShards)
        {
            throw new InvalidDataException($"Page {range.PendingPage} of job {spec.JobId} holds {shards.Count} shards; its commit says {range.PendingShards}.");
        }

        await WriteShardsAsync(spec.JobId, shards, cancellationToken).ConfigureAwait(false);
        await SendAsync(spec.JobId, await UncountedAsync(spec.JobId, range.PendingFirst, range.PendingFirst + range.PendingShards, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        await pageBlob.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the range's page <paramref name="page"/> as sent (when it is still the range's
    /// pending page), and the job as enqueued once every range has ended with nothing pending.
    /// </summary>
    private async Task<JobStatus?> ClearPendingAsync(string jobId, int index, string? page, CancellationToken cancellationToken)
    {
        var updated = await statuses.UpdateAsync(jobId, s =>
        {
            var next = s.RangeOf(index) is { } r && page is not null && r.PendingPage == page ? s.WithRange(r with { PendingFirst = 0, PendingShards = 0, PendingPage = null }) : s;
            if (next.State == JobState.Running && !next.Enqueued && next.ListRanges!.All(x => x.PendingPage is null))
            {
                next = next with { Enqueued = true, ShardsEnqueued = next.ShardsTotal };
            }

            return ReferenceEquals(next, s) ? null : next with { UpdatedAt = time.GetUtcNow() };
        }, cancellationToken).ConfigureAwait(false);
        return updated?.After;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}'s prefix holds {Folders} folders: listed in {Ranges} ranges")]
    private static partial void LogFannedOut(ILogger logger, string jobId, int folders, int ranges);

    [LoggerMessage(Level = LogLevel.Information, Message = "Range {Range} of job {JobId} ignored: the job is {State} or has no such range")]
    private static partial void LogRangeIgnored(ILogger logger, string jobId, int range, string state);
}

using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Computes the images of one shard (embeddings or tokens, <see cref="JobRecipe"/>) into one Parquet part, commits it exactly once and counts it in
/// the job status exactly once. The part is written in one conditional Put Blob (If-None-Match: *),
/// which is atomic: a cancelled or crashed worker leaves nothing, and of two concurrent copies of
/// a shard only one commits. Counting uses a per-shard bit in the shard's stripe and then in the
/// status document (<see cref="ShardCounter"/>), so a redelivered message that finds its part
/// committed only makes sure it was counted. A shard is claimed
/// (<see cref="ResultsLayout.ShardClaim"/>) before it is read, embedded or counted: a copy that
/// finds the claim held throws <see cref="WorkClaimedException"/> and is retried later.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class ProcessShardService(
    BlobServiceClient blobs,
    IMageEngineSource engines,
    JobStatusStore statuses,
    WorkCommits commits,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    TimeProvider time,
    ILogger<ProcessShardService> logger)
{
    /// <summary>Metadata of a committed part: its rows computed.</summary>
    internal const string RowsKey = "rows";

    /// <summary>Metadata of a committed part: its rows that failed.</summary>
    internal const string FailedKey = "failed";

    /// <summary>
    /// Most characters of part names a completion event lists (JSON quotes and commas counted). A
    /// storage-queue message holds 64 KiB, of which base64 leaves 48 KiB; a job of 1,024 shards
    /// listed ~90 KB of parts, so its event could never be sent and every later delivery retried
    /// it (the coordination benchmark, 2026-11-29). Past this, the event lists the manifest alone.
    /// </summary>
    internal const int MaxEventPartChars = 32 * 1024;

    // A view over the injected store and clock, not state: built per use, so the primary
    // constructor's parameters stay the only place they are kept.
    private ShardCounter Counter => new(statuses, time);

    /// <summary>Handles one shard message.</summary>
    /// <param name="message">The JSON <see cref="ShardMessage"/>.</param>
    /// <param name="progress">Receives 1 after each image is computed (or fails).</param>
    /// <param name="cancellationToken">Stops the shard; nothing is committed.</param>
    public async Task<ShardOutcome> ProcessAsync(string message, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var shard = MessageJson.Deserialize<ShardMessage>(message, "shard message", out var invalid);
        if (invalid is not null)
        {
            LogBadMessage(logger, invalid);
            return new ShardOutcome(WorkOutcome.Ignored);
        }

        if (shard is null || !BlobNames.IsId(shard.JobId) || shard.Shard < 0)
        {
            LogBadMessage(logger, "no valid jobId or shard");
            return new ShardOutcome(WorkOutcome.Ignored);
        }

        // The status document alone: its stripes are read only for this shard's (one read per message, never a listing).
        var status = (await statuses.GetDocumentAsync(shard.JobId, cancellationToken).ConfigureAwait(false))?.Status;
        if (status is null || status.State is JobState.Failed or JobState.Listing || shard.Shard >= status.ShardsTotal)
        {
            LogNotRunnable(logger, shard.JobId, shard.Shard, status is null ? "unknown" : WireNames.Of(status.State));
            return new ShardOutcome(WorkOutcome.Ignored);
        }

        if (await Counter.FindCountedAsync(status, shard.Shard, cancellationToken).ConfigureAwait(false) is { } counted)
        {
            await EnsureCompletionAsync(counted, cancellationToken).ConfigureAwait(false);
            return new ShardOutcome(WorkOutcome.AlreadyCounted);
        }

        // Claimed before anything is read or counted, so a copy never embeds or counts a shard another is working on.
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var marker = jobs.GetBlobClient(ResultsLayout.ShardClaim(shard.JobId, shard.Shard));
        await using var claim = await WorkCommits.HoldAsync(marker, $"Shard {shard.Shard} of job {shard.JobId}", cancellationToken).ConfigureAwait(false);
        var shardDoc = await BlobWrites.TryDownloadAsync(jobs.GetBlobClient(ResultsLayout.JobShard(shard.JobId, shard.Shard)), cancellationToken).ConfigureAwait(false);
        ShardDocument? doc = null;
        try
        {
            doc = shardDoc is null ? null : JsonSerializer.Deserialize<ShardDocument>(shardDoc.Content.ToMemory().Span, JsonDefaults.Documents);
        }
        catch (JsonException)
        {
            doc = null;
        }

        if (doc is null)
        {
            LogShardMissing(logger, shard.JobId, shard.Shard);
            await CountAsync(status, shard.Shard, 0, 0, shardFailed: true, cancellationToken).ConfigureAwait(false);
            return new ShardOutcome(WorkOutcome.Failed);
        }

        var output = blobs.GetBlobContainerClient(doc.OutputContainer);
        var part = output.GetBlobClient(ResultsLayout.JobPart(doc.OutputPrefix, doc.Shard));
        var existing = await BlobWrites.TryGetPropertiesAsync(part, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !OutputClaims.IsOf(existing.Metadata, doc.JobId))
        {
            return await ForeignPartAsync(status, doc, part, cancellationToken).ConfigureAwait(false);
        }

        if (existing is not null)
        {
            var (okRows, failedRows) = ReadCounts(existing.Metadata);
            await CountAsync(status, shard.Shard, okRows, failedRows, shardFailed: false, cancellationToken).ConfigureAwait(false);
            return new ShardOutcome(WorkOutcome.AlreadyCommitted, okRows + failedRows, failedRows);
        }

        var rows = await ComputeAsync(doc, progress, cancellationToken).ConfigureAwait(false);
        var failed = rows.Count(r => r.Error is not null);
        var bytes = await doc.Recipe.WritePartAsync(rows, cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string>
        {
            [OutputClaims.JobIdKey] = doc.JobId,
            [RowsKey] = (rows.Length - failed).ToString(CultureInfo.InvariantCulture),
            [FailedKey] = failed.ToString(CultureInfo.InvariantCulture),
        };

        // The commit point: if a concurrent copy of this shard got there first, its part stands and ours is dropped.
        var committed = await BlobWrites.TryCreateAsync(part, BinaryData.FromBytes(bytes), "application/vnd.apache.parquet", metadata, cancellationToken).ConfigureAwait(false);
        if (!committed)
        {
            var winner = await BlobWrites.TryGetPropertiesAsync(part, cancellationToken).ConfigureAwait(false);
            if (winner is not null && !OutputClaims.IsOf(winner.Metadata, doc.JobId))
            {
                return await ForeignPartAsync(status, doc, part, cancellationToken).ConfigureAwait(false);
            }

            (var ok, failed) = winner is null ? (0, 0) : ReadCounts(winner.Metadata);
            await CountAsync(status, shard.Shard, ok, failed, shardFailed: false, cancellationToken).ConfigureAwait(false);
            return new ShardOutcome(WorkOutcome.AlreadyCommitted, ok + failed, failed);
        }

        LogCommitted(logger, doc.JobId, doc.Shard, rows.Length, failed);
        await CountAsync(status, shard.Shard, rows.Length - failed, failed, shardFailed: false, cancellationToken).ConfigureAwait(false);
        return new ShardOutcome(WorkOutcome.Committed, rows.Length, failed);
    }

    /// <summary>A part at this shard's path written by another job: never this job's result; the shard counts as failed.</summary>
    private async Task<ShardOutcome> ForeignPartAsync(JobStatus status, ShardDocument doc, BlobClient part, CancellationToken cancellationToken)
    {
        LogForeignPart(logger, doc.JobId, doc.Shard, part.Name);
        await CountAsync(status, doc.Shard, 0, doc.Blobs.Count, shardFailed: true, cancellationToken).ConfigureAwait(false);
        return new ShardOutcome(WorkOutcome.Failed, doc.Blobs.Count, doc.Blobs.Count);
    }

    private async Task<PartRow[]> ComputeAsync(ShardDocument doc, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        var source = blobs.GetBlobContainerClient(doc.SourceContainer);
        var rows = new PartRow[doc.Blobs.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = limits.Value.ShardConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, doc.Blobs.Count), parallel, async (i, ct) =>
        {
            rows[i] = await ComputeOneAsync(engine, source, doc.Blobs[i], doc.Recipe, ct).ConfigureAwait(false);
            progress?.Report(1);
        }).ConfigureAwait(false);
        return rows;
    }

    private async Task<PartRow> ComputeOneAsync(MageEngine engine, BlobContainerClient source, ShardBlob item, JobRecipe recipe, CancellationToken cancellationToken)
    {
        var row = new PartRow { Name = item.Name, Etag = item.Etag };
        if (BlobNames.CheckBlobName(item.Name, limits.Value.MaxBlobNameLength) is { } problem)
        {
            row.Error = ErrorReasons.Format(problem.Reason, problem.Message);
            return row;
        }

        byte[] bytes;
        try
        {
            (bytes, var etag) = await SourceReads.DownloadAsync(source.GetBlobClient(item.Name), "image", limits.Value.MaxImageBytes, null, cancellationToken).ConfigureAwait(false);
            row.Etag = etag.ToString();
        }
        catch (ImageDecodeException e)
        {
            row.Error = ErrorReasons.Format(ErrorReasons.From(e.Reason), e.Message);
            return row;
        }
        catch (SourceReadException e)
        {
            row.Error = ErrorReasons.Format(e.Reason, e.Message);
            return row;
        }

        try
        {
            await recipe.ComputeAsync(engine, bytes, row, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageDecodeException e)
        {
            row.Error = ErrorReasons.Format(ErrorReasons.From(e.Reason), e.Message);
        }
        catch (InvalidRequestException e)
        {
            row.Error = ErrorReasons.Format(ErrorReason.InvalidRequest, e.Message);
        }

        return row;
    }

    private async Task CountAsync(JobStatus status, int shard, long ok, long failed, bool shardFailed, CancellationToken cancellationToken)
    {
        if (await Counter.CountAsync(status, shard, ok, failed, shardFailed, cancellationToken).ConfigureAwait(false) is { } after)
        {
            await EnsureCompletionAsync(after, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// When the job is complete: writes the manifest once and publishes the completion event once.
    /// Every later call (each shard message of a completed job) only publishes an event that a
    /// crashed worker left in the manifest's outbox, with the same id. Both happen under the job's
    /// completion claim (<see cref="ResultsLayout.JobCompletionClaim"/>): without it, copies of
    /// shard messages arriving while the manifest's writer was still publishing each published its
    /// event again (seen with 32 concurrent deliveries, StripedCountingTests). A call that finds
    /// the claim held throws <see cref="WorkClaimedException"/>, so its message is retried.
    /// </summary>
    private async Task EnsureCompletionAsync(JobStatus status, CancellationToken cancellationToken)
    {
        if (status.State != JobState.Completed || status.OutputContainer is null || status.OutputPrefix is null)
        {
            return;
        }

        var output = blobs.GetBlobContainerClient(status.OutputContainer);
        var jobs = blobs.GetBlobContainerClient(storage.Value.JobsContainer);
        var unit = new WorkUnit(
            output.GetBlobClient(ResultsLayout.JobManifest(status.OutputPrefix)),
            null,
            jobs.GetBlobClient(ResultsLayout.JobCompletionClaim(status.JobId)),
            $"The completion of job {status.JobId}",
            JobOwner(status.JobId));
        if (await BlobWrites.TryGetPropertiesAsync(unit.Record, cancellationToken).ConfigureAwait(false) is { } found && !unit.Owns(found.Metadata))
        {
            // Another's manifest at this job's path is never this job's success: no completion event is published for it.
            LogForeignManifest(logger, status.JobId, unit.Record.Name);
            return;
        }

        var claimed = await commits.ClaimAsync(unit, cancellationToken).ConfigureAwait(false);
        if (claimed is null)
        {
            return; // written and announced (a leftover event is published under the claim)
        }

        await using var work = claimed;

        // Stripes a worker left when it died between folding and deleting one: the job is done, nothing counts them.
        await statuses.DeleteStripesAsync(status.JobId, cancellationToken).ConfigureAwait(false);
        var parts = new List<ManifestPart>();
        await foreach (var item in output.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, ResultsLayout.JobPartsFolder(status.OutputPrefix), cancellationToken).ConfigureAwait(false))
        {
            if (!OutputClaims.IsOf(item.Metadata, status.JobId))
            {
                LogForeignPart(logger, status.JobId, -1, item.Name);
                continue; // another job's part: never listed as this job's
            }

            var (ok, failed) = ReadCounts(item.Metadata);
            parts.Add(new ManifestPart(item.Name, ok, failed));
        }

        var manifest = new JobManifest(status.JobId, JobState.Completed, status.OutputContainer, parts, status.ImagesTotal, status.ImagesDone, status.ImagesFailed, status.ShardsTotal, status.ShardsFailed,
            status.Kind, status.Pooling, status.Normalize, status.Preprocess);
        var partOutputs = parts.Select(p => $"{status.OutputContainer}/{p.Name}").ToList();
        if (partOutputs.Sum(o => o.Length + 4) > MaxEventPartChars)
        {
            partOutputs.Clear(); // the manifest lists them
        }

        var announce = new MageEventDraft(MageEventTypes.JobCompleted, $"jobs/{status.JobId}", status.JobId,
            new MageEventData(status.JobId, null, RecordStatus.Completed, [$"{status.OutputContainer}/{unit.Record.Name}", .. partOutputs]));
        if (await work.CompleteAsync(manifest, announce, cancellationToken).ConfigureAwait(false))
        {
            LogCompleted(logger, status.JobId, status.ImagesDone, status.ImagesFailed);
        }
    }

    /// <summary>The owner (<see cref="WorkUnit.Owner"/>) of the files a job writes.</summary>
    private static string JobOwner(string jobId) => $"job:{jobId}";

    private static (int Ok, int Failed) ReadCounts(IDictionary<string, string>? metadata)
    {
        static int Read(IDictionary<string, string>? m, string key) =>
            m is not null && m.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (Read(metadata, RowsKey), Read(metadata, FailedKey));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring a shard message that cannot be read: {Problem}")]
    private static partial void LogBadMessage(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring shard {Shard} of job {JobId} in state {State}")]
    private static partial void LogNotRunnable(ILogger logger, string jobId, int shard, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard} of job {JobId} has no readable shard list; counted as failed")]
    private static partial void LogShardMissing(ILogger logger, string jobId, int shard);

    [LoggerMessage(Level = LogLevel.Information, Message = "Committed shard {Shard} of job {JobId}: {Rows} rows, {Failed} failed")]
    private static partial void LogCommitted(ILogger logger, string jobId, int shard, int rows, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} is complete, but {Manifest} was not written by it; no completion event is published")]
    private static partial void LogForeignManifest(ILogger logger, string jobId, string manifest);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}, shard {Shard}: {Part} was written by another job; not counted as this job's")]
    private static partial void LogForeignPart(ILogger logger, string jobId, int shard, string part);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} completed: {ImagesDone} images done, {ImagesFailed} failed")]
    private static partial void LogCompleted(ILogger logger, string jobId, long imagesDone, long imagesFailed);
}

using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Jobs.Coordination;
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

    // A view over the injected store and clock, not state: built per use, so the primary
    // constructor's parameters stay the only place they are kept.
    private ShardCounter Counter => new(statuses, time);

    private JobCompletion Completion => new(blobs, statuses, commits, storage.Value.JobsContainer, logger);

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
        // A job still listing runs the shards it has committed (ShardsTotal so far); their messages are sent only after that commit.
        if (status is null || status.State is JobState.Failed || status.Stripes == 0 || shard.Shard >= status.ShardsTotal)
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

        // A list blob's line may name what no message may read (a prefix listing skips those).
        if (storage.Value.CheckSourceBlob(source.Name, item.Name, "The blob") is { } privateUpload)
        {
            row.Error = ErrorReasons.Format(ErrorReason.NotAllowed, privateUpload);
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

    /// <summary>Finishes the job (manifest and event, <see cref="JobCompletion"/>) when it is complete.</summary>
    private Task EnsureCompletionAsync(JobStatus status, CancellationToken cancellationToken) =>
        Completion.EnsureAsync(status, cancellationToken);

    /// <summary>The row counts a committed part's metadata holds (<see cref="RowsKey"/>, <see cref="FailedKey"/>).</summary>
    internal static (int Ok, int Failed) ReadCounts(IDictionary<string, string>? metadata)
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


    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}, shard {Shard}: {Part} was written by another job; not counted as this job's")]
    private static partial void LogForeignPart(ILogger logger, string jobId, int shard, string part);

}

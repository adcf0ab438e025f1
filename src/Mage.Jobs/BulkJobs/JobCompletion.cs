using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Finishes a completed job: writes its manifest once and publishes the completion event once.
/// Called by whoever saw the job complete: the shard worker whose count finished it, or the
/// listing, when every shard was counted before the listing ended. Every later call (each shard
/// message of a completed job) only publishes an event that a crashed caller left in the
/// manifest's outbox, with the same id. Both happen under the job's completion claim
/// (<see cref="ResultsLayout.JobCompletionClaim"/>): without it, copies of shard messages arriving
/// while the manifest's writer was still publishing each published its event again (seen with 32
/// concurrent deliveries, StripedCountingTests). A call that finds the claim held throws
/// <see cref="WorkClaimedException"/>.
/// </summary>
/// <remarks>Stateless view over the services' own clients; thread-safe.</remarks>
internal sealed partial class JobCompletion(BlobServiceClient blobs, JobStatusStore statuses, WorkCommits commits, string jobsContainer, ILogger logger)
{
    /// <summary>
    /// Most characters of part names a completion event lists (JSON quotes and commas counted). A
    /// storage-queue message holds 64 KiB, of which base64 leaves 48 KiB; a job of 1,024 shards
    /// listed ~90 KB of parts, so its event could never be sent and every later delivery retried
    /// it (the coordination benchmark, 2026-11-29). Past this, the event lists the manifest alone.
    /// </summary>
    internal const int MaxEventPartChars = 32 * 1024;

    /// <summary>Writes the manifest and publishes the event when <paramref name="status"/> is completed; otherwise does nothing.</summary>
    /// <exception cref="WorkClaimedException">Another delivery is finishing the job now.</exception>
    public async Task EnsureAsync(JobStatus status, CancellationToken cancellationToken)
    {
        if (status.State != JobState.Completed || status.OutputContainer is null || status.OutputPrefix is null)
        {
            return;
        }

        var output = blobs.GetBlobContainerClient(status.OutputContainer);
        var jobs = blobs.GetBlobContainerClient(jobsContainer);
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

        // The stripes were folded into the status document as the job completed: nothing counts them any more.
        await statuses.DeleteStripesAsync(status.JobId, cancellationToken).ConfigureAwait(false);

        // Nor does anything list any more: the folder list, and page blobs a range lister left when it died before its commit.
        await foreach (var item in jobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, ResultsLayout.JobListingFolder(status.JobId), cancellationToken).ConfigureAwait(false))
        {
            await jobs.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        var parts = new List<ManifestPart>();
        await foreach (var item in output.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, ResultsLayout.JobPartsFolder(status.OutputPrefix), cancellationToken).ConfigureAwait(false))
        {
            if (!OutputClaims.IsOf(item.Metadata, status.JobId))
            {
                LogForeignPart(logger, status.JobId, item.Name);
                continue; // another job's part: never listed as this job's
            }

            var (ok, failed) = ProcessShardService.ReadCounts(item.Metadata);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} is complete, but {Manifest} was not written by it; no completion event is published")]
    private static partial void LogForeignManifest(ILogger logger, string jobId, string manifest);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: {Part} was written by another job; not listed in its manifest")]
    private static partial void LogForeignPart(ILogger logger, string jobId, string part);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} completed: {ImagesDone} images done, {ImagesFailed} failed")]
    private static partial void LogCompleted(ILogger logger, string jobId, long imagesDone, long imagesFailed);
}

using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Coordination;

/// <summary>
/// Reads and writes job status documents with optimistic concurrency: create with
/// If-None-Match: *, update with If-Match on the ETag read, and re-read and retry on a conflict.
/// A running job's shard counts are spread over stripe documents (<see cref="JobStripe"/>, updated
/// the same way) until each stripe is complete; <see cref="GetAsync"/> adds them in.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class JobStatusStore(BlobServiceClient blobs, IOptions<StorageSettings> storage)
{
    private const int MaxAttempts = 64;

    /// <summary>The jobs container.</summary>
    internal BlobContainerClient Container => blobs.GetBlobContainerClient(storage.Value.JobsContainer);

    /// <summary>Creates the status document; false when the job already has one.</summary>
    public Task<bool> TryCreateAsync(JobStatus status, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(status);
        return BlobWrites.TryCreateAsync(Container.GetBlobClient(ResultsLayout.JobStatus(status.JobId)), JsonDefaults.ToDocument(status), "application/json", cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The job's status as the API answers it, or null when there is none: the status document plus
    /// the counts of its stripes not folded into it yet (one List call, then one read). The ETag is
    /// the status document's.
    /// </summary>
    public async Task<(JobStatus Status, ETag ETag)?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        // Listed before the document is read: a stripe folded in between is then in the document
        // (and skipped), never in neither.
        var stripes = await ListStripesAsync(jobId, cancellationToken).ConfigureAwait(false);
        var document = await GetDocumentAsync(jobId, cancellationToken).ConfigureAwait(false);
        return document is { } d ? (d.Status.WithUnfolded(stripes), d.ETag) : null;
    }

    /// <summary>The status document alone (one read), or null when there is none.</summary>
    internal async Task<(JobStatus Status, ETag ETag)?> GetDocumentAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var result = await BlobWrites.TryDownloadAsync(Container.GetBlobClient(ResultsLayout.JobStatus(jobId)), cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return null;
        }

        var status = JsonSerializer.Deserialize<JobStatus>(result.Content.ToMemory().Span, JsonDefaults.Documents)
            ?? throw new InvalidDataException($"Status document of job {jobId} is null.");
        return (status, result.Details.ETag);
    }

    /// <summary>
    /// The status documents in the jobs container, as job id and the blob's creation time (to the
    /// second), from one flat listing of <see cref="ResultsLayout.JobsFolder"/> that stops after
    /// <paramref name="maxListed"/> blobs: every blob there counts (claims, shard documents and
    /// stripes too), so the bound is on storage calls, not jobs. <c>Complete</c> is false when the
    /// listing stopped there.
    /// </summary>
    internal async Task<(List<(string JobId, DateTimeOffset CreatedOn)> Statuses, bool Complete)> ListStatusesAsync(int maxListed, CancellationToken cancellationToken = default)
    {
        var statuses = new List<(string, DateTimeOffset)>();
        var listed = 0;
        await foreach (var item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, ResultsLayout.JobsFolder, cancellationToken).ConfigureAwait(false))
        {
            if (++listed > maxListed)
            {
                return (statuses, false);
            }

            if (ResultsLayout.JobIdOfStatus(item.Name) is { } jobId)
            {
                statuses.Add((jobId, item.Properties.CreatedOn ?? item.Properties.LastModified ?? DateTimeOffset.MinValue));
            }
        }

        return (statuses, true);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current status document until the write wins. The
    /// change returns null to leave the document as it is. Returns the document before and after.
    /// </summary>
    public Task<(JobStatus Before, JobStatus After)?> UpdateAsync(string jobId, Func<JobStatus, JobStatus?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        var blob = Container.GetBlobClient(ResultsLayout.JobStatus(jobId));
        return UntilWrittenAsync<(JobStatus Before, JobStatus After)?>(async () =>
        {
            var current = await GetDocumentAsync(jobId, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }

            var (before, etag) = current.Value;
            var after = change(before);
            if (after is null)
            {
                return (before, before);
            }

            await blob.UploadAsync(JsonDefaults.ToDocument(after), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfMatch = etag },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            }, cancellationToken).ConfigureAwait(false);
            return (before, after);
        }, cancellationToken);
    }

    /// <summary>Stripe <paramref name="index"/> of a job (one read), or null when it does not exist (not counted into yet, or folded).</summary>
    internal async Task<JobStripe?> GetStripeAsync(string jobId, int index, CancellationToken cancellationToken = default) =>
        await ReadStripeAsync(Container.GetBlobClient(ResultsLayout.JobStripe(jobId, index)), cancellationToken).ConfigureAwait(false) is { } read ? read.Stripe : null;

    /// <summary>
    /// Applies <paramref name="change"/> to stripe <paramref name="index"/> until the write wins
    /// (If-Match). The change returns null to leave the stripe as it is. Returns the stripe after,
    /// or null when there is none (never created, or folded and deleted under the change): stripes
    /// are created only by <see cref="TryCreateStripeAsync"/>.
    /// </summary>
    internal Task<JobStripe?> UpdateStripeAsync(string jobId, int index, Func<JobStripe, JobStripe?> change, CancellationToken cancellationToken = default)
    {
        var blob = Container.GetBlobClient(ResultsLayout.JobStripe(jobId, index));
        return UntilWrittenAsync<JobStripe?>(async () =>
        {
            if (await ReadStripeAsync(blob, cancellationToken).ConfigureAwait(false) is not { } current)
            {
                return null;
            }

            if (change(current.Stripe) is not { } after)
            {
                return current.Stripe;
            }

            try
            {
                await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfMatch = current.ETag },
                    Metadata = after.ToMetadata(),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (StorageFailures.IsNotFound(e))
            {
                return null; // deleted since it was read
            }

            return after;
        }, cancellationToken);
    }

    /// <summary>Creates a stripe (If-None-Match: *); false when it already exists.</summary>
    internal Task<bool> TryCreateStripeAsync(string jobId, JobStripe stripe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stripe);
        return BlobWrites.TryCreateAsync(Container.GetBlobClient(ResultsLayout.JobStripe(jobId, stripe.Index)), BinaryData.Empty, "application/octet-stream", stripe.ToMetadata(), cancellationToken);
    }

    /// <summary>Every stripe of a job still there (one List call with metadata); none when the jobs container is missing.</summary>
    internal async Task<List<JobStripe>> ListStripesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var stripes = new List<JobStripe>();
        try
        {
            await foreach (var item in Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, ResultsLayout.JobStripesFolder(jobId), cancellationToken).ConfigureAwait(false))
            {
                stripes.Add(JobStripe.FromMetadata(item.Metadata) ?? throw Unreadable(item.Name));
            }
        }
        catch (RequestFailedException e) when (StorageFailures.IsNotFound(e))
        {
            return [];
        }

        return stripes;
    }

    /// <summary>Deletes a stripe once the status document counts it.</summary>
    internal Task DeleteStripeAsync(string jobId, int index, CancellationToken cancellationToken = default) =>
        Container.DeleteBlobIfExistsAsync(ResultsLayout.JobStripe(jobId, index), cancellationToken: cancellationToken);

    /// <summary>Deletes the stripes a worker left when it died between folding one and deleting it.</summary>
    internal async Task DeleteStripesAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await foreach (var item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, ResultsLayout.JobStripesFolder(jobId), cancellationToken).ConfigureAwait(false))
        {
            await Container.DeleteBlobIfExistsAsync(item.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(JobStripe Stripe, ETag ETag)?> ReadStripeAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        var properties = await BlobWrites.TryGetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        return properties is null ? null : (JobStripe.FromMetadata(properties.Metadata) ?? throw Unreadable(blob.Name), properties.ETag);
    }

    private static InvalidDataException Unreadable(string name) => new($"Stripe {name} has no readable counts in its metadata.");

    /// <summary>
    /// Runs one read-change-write <paramref name="attempt"/> until its conditional write wins: on a
    /// lost condition (412, or 409 for a create) it backs off a little (jittered) and tries again,
    /// at most <see cref="MaxAttempts"/> times.
    /// </summary>
    private static async Task<T> UntilWrittenAsync<T>(Func<Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt().ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (StorageFailures.IsConditionFailed(e) && n < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(5, 20 * Math.Min(n, 10)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

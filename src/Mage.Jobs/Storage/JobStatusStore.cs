using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Options;
using Mage.Jobs.Services;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Storage;

/// <summary>
/// Reads and writes job status documents with optimistic concurrency: create with
/// If-None-Match: *, update with If-Match on the ETag read, and re-read and retry on a conflict.
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

    /// <summary>The job's status, or null when there is none.</summary>
    public async Task<(JobStatus Status, ETag ETag)?> GetAsync(string jobId, CancellationToken cancellationToken = default)
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
    /// Applies <paramref name="change"/> to the current status until the write wins. The change
    /// returns null to leave the document as it is. Returns the status before and after.
    /// </summary>
    public async Task<(JobStatus Before, JobStatus After)?> UpdateAsync(string jobId, Func<JobStatus, JobStatus?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        var blob = Container.GetBlobClient(ResultsLayout.JobStatus(jobId));
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(jobId, cancellationToken).ConfigureAwait(false);
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

            try
            {
                await blob.UploadAsync(JsonDefaults.ToDocument(after), new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfMatch = etag },
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                }, cancellationToken).ConfigureAwait(false);
                return (before, after);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < MaxAttempts)
            {
                // Another worker won; back off a little (jittered) and re-read.
                await Task.Delay(Random.Shared.Next(5, 20 * Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

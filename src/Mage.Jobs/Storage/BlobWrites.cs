using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Mage.Jobs.Storage;

/// <summary>
/// The few blob operations the services need, with the conditions that make them idempotent.
/// Stateless and thread-safe; transient failures surface as <see cref="RequestFailedException"/>
/// so the Functions host retries the message.
/// </summary>
internal static class BlobWrites
{
    /// <summary>
    /// Creates the blob only if no blob of that name exists (If-None-Match: *). A single Put Blob
    /// is atomic: readers see the whole blob or none, so a conditional create doubles as the commit
    /// of a result. Returns false when the blob was already there.
    /// </summary>
    public static async Task<bool> TryCreateAsync(BlobClient blob, BinaryData content, string contentType, IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            await blob.UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                Metadata = metadata,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (StorageFailures.IsAlreadyExists(e))
        {
            return false;
        }
    }

    /// <summary>Writes (or overwrites) a blob whose content is a pure function of its inputs, so a rewrite stores the same bytes.</summary>
    public static Task WriteAsync(BlobClient blob, BinaryData content, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return blob.UploadAsync(content, new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
        }, cancellationToken);
    }

    /// <summary>Downloads a blob's content, or null when it does not exist.</summary>
    public static async Task<BlobDownloadResult?> TryDownloadAsync(BlobClient blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        try
        {
            return (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (StorageFailures.IsNotFound(e))
        {
            return null;
        }
    }

    /// <summary>A blob's properties, or null when it (or its container) does not exist.</summary>
    public static async Task<BlobProperties?> TryGetPropertiesAsync(BlobClient blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (StorageFailures.IsNotFound(e))
        {
            return null;
        }
    }
}

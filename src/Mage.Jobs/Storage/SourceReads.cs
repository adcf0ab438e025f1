using System.Net;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Inference.Imaging;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Storage;

/// <summary>
/// Reads a caller's source image (an upload, a job's blob, an edit's source or mask) with its size
/// capped before the body is read, and with the refusals every service records the same way.
/// Stateless and thread-safe.
/// </summary>
internal static class SourceReads
{
    /// <summary>
    /// Downloads <paramref name="blob"/> and returns its bytes and ETag. With
    /// <paramref name="ifMatch"/>, only that version is read.
    /// </summary>
    /// <param name="blob">The source blob.</param>
    /// <param name="field">How the caller's message names it (<c>source</c>, <c>mask</c>, <c>image</c>), for the error.</param>
    /// <param name="maxBytes">The most bytes accepted.</param>
    /// <param name="ifMatch">The version to read, or null for the current one.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="ImageDecodeException">The blob is larger than <paramref name="maxBytes"/> (<see cref="ImageDecodeFailure.TooLarge"/>); nothing past its properties was read.</exception>
    /// <exception cref="SourceReadException">The blob (or its container) does not exist (<see cref="ErrorReason.Missing"/>), or storage refused to read it (<see cref="StorageFailures.IsRefused"/>: <see cref="ErrorReason.InvalidRequest"/>).</exception>
    /// <exception cref="RequestFailedException">412 when <paramref name="ifMatch"/> is no longer the version, or storage cannot answer now (<see cref="StorageFailures.IsUnavailable"/>).</exception>
    public static async Task<(byte[] Bytes, ETag Etag)> DownloadAsync(BlobClient blob, string field, long maxBytes, ETag? ifMatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        try
        {
            var options = new BlobDownloadOptions { Conditions = ifMatch is { } etag ? new BlobRequestConditions { IfMatch = etag } : null };
            var response = await blob.DownloadStreamingAsync(options, cancellationToken).ConfigureAwait(false);
            using var download = response.Value;
            if (download.Details.ContentLength > maxBytes)
            {
                throw new ImageDecodeException(ImageDecodeFailure.TooLarge,
                    $"{field} {blob.BlobContainerName}/{blob.Name} has {download.Details.ContentLength} bytes; at most {maxBytes} are accepted.");
            }

            var bytes = new byte[download.Details.ContentLength];
            await download.Content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return (bytes, download.Details.ETag);
        }
        catch (RequestFailedException e) when (StorageFailures.IsNotFound(e))
        {
            throw new SourceReadException(ErrorReason.Missing, $"{field} {blob.BlobContainerName}/{blob.Name} does not exist.");
        }
        catch (RequestFailedException e) when (StorageFailures.IsRefused(e) && e.Status != (int)HttpStatusCode.PreconditionFailed)
        {
            throw new SourceReadException(ErrorReason.InvalidRequest, StorageErrors.ReadRefused($"{field} {blob.BlobContainerName}/{blob.Name}", e));
        }
    }
}

using Azure;
using Azure.Storage.Blobs;

namespace Mage.Jobs.Storage;

/// <summary>
/// Recreates a container the app owns (jobs, results) that was deleted after start-up, so that a
/// failure can still be recorded where users look. Stateless and thread-safe.
/// </summary>
internal static class ContainerRepair
{
    /// <summary>
    /// Creates <paramref name="container"/> if it is missing and <paramref name="createMissing"/>
    /// allows it. Returns null when it exists afterwards, else why it does not (naming it).
    /// </summary>
    /// <exception cref="RequestFailedException">Storage failed for another reason than a missing role.</exception>
    public static async Task<string?> EnsureAsync(BlobContainerClient container, bool createMissing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (!createMissing)
        {
            return await container.ExistsAsync(cancellationToken).ConfigureAwait(false) ? null : StorageErrors.Missing(StorageResource.Of(container));
        }

        try
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
            return StorageErrors.Explain(StorageResource.Of(container), e, creating: true);
        }
    }
}

using Azure.Storage.Blobs;
using Mage.Jobs.Events;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Services;

/// <summary>
/// The one place results are committed: a record document (result, error, upload record,
/// manifest) written once with If-None-Match: *, whose existence marks the work done, and then
/// the event that announces it. A retried message that finds the record writes nothing and
/// publishes nothing; every copy of an event carries the same id (<see cref="MageEvent.Create"/>).
/// </summary>
/// <remarks>
/// Thread-safe singleton. Public only because the job services take it in their public
/// constructors (dependency injection); its members are internal.
/// </remarks>
public sealed class ResultCommitter(IEventPublisher events, TimeProvider time)
{
    /// <summary>True when either record exists (the work was done, or refused, before).</summary>
    internal static async Task<bool> ExistsAsync(BlobClient record, BlobClient error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(error);
        return await record.ExistsAsync(cancellationToken).ConfigureAwait(false)
            || await error.ExistsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes <paramref name="record"/> as JSON to <paramref name="blob"/> unless it exists, and
    /// when this call wrote it publishes the event. Returns whether this call committed.
    /// </summary>
    /// <exception cref="Azure.RequestFailedException">Storage failed, or the container does not exist (404).</exception>
    internal async Task<bool> CommitAsync<T>(BlobClient blob, T record, MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(announce);
        if (!await BlobWrites.TryCreateAsync(blob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await PublishAsync(announce, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Publishes an event that has no record of its own (a job's failure lives in its status document).</summary>
    internal Task PublishAsync(MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        return events.PublishAsync(MageEvent.Create(announce.Type, announce.Subject, announce.VersionKey, announce.Data, time.GetUtcNow()), cancellationToken);
    }
}

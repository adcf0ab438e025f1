using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Mage.Jobs.Events;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Coordination;

/// <summary>
/// The one place results are committed and announced, through an outbox: the event (with its
/// deterministic id, <see cref="MageEvent.Create"/>, and its time) is written next to the record
/// (<see cref="ResultsLayout.Outbox"/>); then the record (result, error, upload record, manifest)
/// is created with If-None-Match: *, and its existence marks the work done; then the event is
/// published and the outbox blob deleted. A worker that dies between the record and the publish
/// leaves the outbox blob, and the next delivery, finding the record, publishes it
/// (<see cref="EnsurePublishedAsync"/>). So every commit is announced at least once, normally
/// exactly once, and every copy carries the same id (Service Bus duplicate detection drops repeats).
/// </summary>
/// <remarks>
/// Thread-safe singleton. Public only because the job services take it in their public
/// constructors (dependency injection); its members are internal.
/// </remarks>
public sealed class WorkCommits(IEventPublisher events, TimeProvider time)
{
    /// <summary>
    /// True when either record exists (the work was done, or refused, before). A delivery that
    /// finds one publishes what a crashed delivery left in its outbox.
    /// </summary>
    internal async Task<bool> IsCommittedAsync(BlobClient record, BlobClient error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(error);
        foreach (var blob in new[] { record, error })
        {
            if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                await EnsurePublishedAsync(blob, cancellationToken).ConfigureAwait(false);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when either record exists and its outbox is empty: the work is done and announced.
    /// Publishes nothing, so a delivery may ask before it holds the work's claim. A record with a
    /// leftover event gives false: the caller must claim the work and then call
    /// <see cref="IsCommittedAsync"/>, because the leftover may be the event the claim's holder is
    /// publishing right now (several workers listing one uploads container published it twice).
    /// </summary>
    internal async Task<bool> IsSettledAsync(BlobClient record, BlobClient error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(error);
        foreach (var blob in new[] { record, error })
        {
            if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                return !(await Outbox(blob).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes <paramref name="record"/> as JSON to <paramref name="blob"/> unless it exists, and
    /// announces it through the outbox. Returns whether this call committed; when it did not,
    /// a leftover event of the earlier commit is published.
    /// </summary>
    /// <exception cref="Azure.RequestFailedException">Storage failed, or the container does not exist (404).</exception>
    internal async Task<bool> CommitAsync<T>(BlobClient blob, T record, MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(announce);

        // Checked before staging: a redelivery must not leave a fresh outbox blob that it would then publish again.
        if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            await EnsurePublishedAsync(blob, cancellationToken).ConfigureAwait(false);
            return false;
        }

        var staged = await StageAsync(blob, announce, cancellationToken).ConfigureAwait(false);
        if (!await BlobWrites.TryCreateAsync(blob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            // A concurrent copy committed first. Our staging may have replaced its outbox blob before
            // it published, so publish rather than drop it: at worst a second copy with the same id.
            await EnsurePublishedAsync(blob, cancellationToken).ConfigureAwait(false);
            return false;
        }

        await PublishStagedAsync(blob, staged, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Writes the event that will announce <paramref name="record"/> to its outbox blob. Call
    /// before the write that commits the record; then <see cref="PublishStagedAsync"/> when this
    /// call committed, <see cref="EnsurePublishedAsync"/> when another did, <see cref="DiscardAsync"/>
    /// when nothing was committed.
    /// </summary>
    internal async Task<MageEvent> StageAsync(BlobClient record, MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(announce);
        var mageEvent = MageEvent.Create(announce.Type, announce.Subject, announce.VersionKey, announce.Data, time.GetUtcNow());
        await BlobWrites.WriteAsync(Outbox(record), BinaryData.FromBytes(mageEvent.ToJsonBytes()), "application/json", cancellationToken).ConfigureAwait(false);
        return mageEvent;
    }

    /// <summary>Publishes the event staged for <paramref name="record"/>, committed by this call, and clears the outbox.</summary>
    internal async Task PublishStagedAsync(BlobClient record, MageEvent staged, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(staged);
        await events.PublishAsync(staged, cancellationToken).ConfigureAwait(false);
        await DiscardAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// For a record that is committed: publishes the event left in its outbox, if any, and clears
    /// the outbox. Every delivery that finds the record committed calls this; without a leftover it
    /// costs one read and publishes nothing.
    /// </summary>
    internal async Task EnsurePublishedAsync(BlobClient record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var pending = await BlobWrites.TryDownloadAsync(Outbox(record), cancellationToken).ConfigureAwait(false);
        if (pending is null)
        {
            return;
        }

        await events.PublishAsync(MageEvent.FromJson(pending.Content), cancellationToken).ConfigureAwait(false);
        await DiscardAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the outbox blob of <paramref name="record"/>. Unconditional: any copy there has the
    /// id of the event already published (or of one that must not be).
    /// </summary>
    internal Task DiscardAsync(BlobClient record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Outbox(record).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Publishes an event that has no record to commit it (there is nowhere to write one).</summary>
    internal Task PublishAsync(MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        return events.PublishAsync(MageEvent.Create(announce.Type, announce.Subject, announce.VersionKey, announce.Data, time.GetUtcNow()), cancellationToken);
    }

    private static BlobClient Outbox(BlobClient record) =>
        record.GetParentBlobContainerClient().GetBlobClient(ResultsLayout.Outbox(record.Name));
}

using Azure.Storage.Blobs;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Coordination;

/// <summary>
/// The commit protocol every service follows: settled? → claim (<see cref="ClaimAsync"/>) → work →
/// data files → record → event. Results are committed and announced through an outbox: the event (with its
/// deterministic id, <see cref="MageEvent.Create"/>, and its time) is written to the record's outbox
/// in the jobs container (<see cref="ResultsLayout.Outbox"/>); then the record (result, error, upload record, manifest)
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
public sealed class WorkCommits(IEventPublisher events, BlobServiceClient blobs, IOptions<StorageSettings> storage, TimeProvider time)
{
    /// <summary>
    /// True when a record of <paramref name="unit"/> exists and its outbox is empty: the work is
    /// done and announced. Publishes nothing, so a delivery may ask before it holds the work's
    /// claim. A record with a leftover event gives false: the caller must claim the work, because
    /// the leftover may be the event the claim's holder is publishing right now (several workers
    /// listing one uploads container published it twice).
    /// </summary>
    internal async Task<bool> IsSettledAsync(WorkUnit unit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unit);
        foreach (var blob in unit.Records)
        {
            if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                return !(await Outbox(blob).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
            }
        }

        return false;
    }

    /// <summary>
    /// Takes <paramref name="unit"/> for this delivery: null when it is settled, or was committed
    /// by the time the claim was taken (then an event a crashed delivery left is published);
    /// throws <see cref="WorkClaimedException"/> while another delivery holds the claim.
    /// </summary>
    /// <exception cref="WorkClaimedException">Another delivery holds the claim; retry the message later.</exception>
    internal async Task<ClaimedWork?> ClaimAsync(WorkUnit unit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unit);
        if (await IsSettledAsync(unit, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var claim = await HoldAsync(unit.Claim, unit.Description, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!await IsCommittedAsync(unit, cancellationToken).ConfigureAwait(false))
            {
                return new ClaimedWork(this, unit, claim);
            }
        }
        catch
        {
            await claim.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await claim.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Takes the claim whose marker is <paramref name="claim"/> for work whose records are not
    /// plain create-only blobs (a shard counted through stripes, a job's listing); the caller
    /// checks what is done under it. Throws <see cref="WorkClaimedException"/> while another delivery holds it.
    /// </summary>
    /// <exception cref="WorkClaimedException">Another delivery holds the claim; retry the message later.</exception>
    internal static async Task<WorkClaim> HoldAsync(BlobClient claim, string description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return await WorkClaim.TryAcquireAsync(claim, cancellationToken).ConfigureAwait(false)
            ?? throw WorkClaimedException.For(description, $"{claim.BlobContainerName}/{claim.Name}");
    }

    /// <summary>
    /// Writes <paramref name="record"/> as JSON to <paramref name="blob"/> unless it exists, and
    /// announces it. Returns whether this call committed; when it did not, a leftover event of the
    /// earlier commit is published. Claimed work commits through <see cref="ClaimedWork"/>; this is
    /// also the way to record a refusal that needs no claim (a message that cannot be read).
    /// </summary>
    /// <exception cref="Azure.RequestFailedException">Storage failed, or the container does not exist (404).</exception>
    internal async Task<bool> CommitRecordAsync<T>(BlobClient blob, T record, MageEventDraft announce, CancellationToken cancellationToken, IDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(blob);

        // Checked before staging: a redelivery must not leave a fresh outbox blob that it would then publish again.
        if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            await EnsurePublishedAsync(blob, cancellationToken).ConfigureAwait(false);
            return false;
        }

        // A concurrent copy that commits first may find our staged event in place of its own before
        // it publishes, so CommittedBefore publishes rather than drops it: at worst a second copy with the same id.
        return await CommitAsync(blob, announce, async ct =>
            await BlobWrites.TryCreateAsync(blob, JsonDefaults.ToDocument(record), "application/json", metadata, ct).ConfigureAwait(false)
                ? CommitResult.Committed
                : CommitResult.CommittedBefore, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The outbox around any commit of <paramref name="record"/>: stages the event, runs
    /// <paramref name="commit"/> (the write whose success is the commit, such as a status document
    /// turning failed), then publishes the event, publishes a leftover of an earlier commit, or drops
    /// it, as <paramref name="commit"/> says. Returns whether this call committed.
    /// </summary>
    internal async Task<bool> CommitAsync(BlobClient record, MageEventDraft announce, Func<CancellationToken, Task<CommitResult>> commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(announce);
        ArgumentNullException.ThrowIfNull(commit);
        var staged = Create(announce);
        await BlobWrites.WriteAsync(Outbox(record), BinaryData.FromBytes(staged.ToJsonBytes()), "application/json", cancellationToken).ConfigureAwait(false);
        switch (await commit(cancellationToken).ConfigureAwait(false))
        {
            case CommitResult.Committed:
                await events.PublishAsync(staged, cancellationToken).ConfigureAwait(false);
                await DiscardAsync(record, cancellationToken).ConfigureAwait(false);
                return true;
            case CommitResult.CommittedBefore:
                await EnsurePublishedAsync(record, cancellationToken).ConfigureAwait(false);
                return false;
            default:
                await DiscardAsync(record, cancellationToken).ConfigureAwait(false);
                return false;
        }
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

    /// <summary>Publishes an event that has no record to commit it (there is nowhere to write one).</summary>
    internal Task PublishAsync(MageEventDraft announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        return events.PublishAsync(Create(announce), cancellationToken);
    }

    /// <summary>
    /// True when a record of <paramref name="unit"/> exists (the work was done, or refused,
    /// before); publishes what a crashed delivery left in its outbox. Asked under the claim.
    /// </summary>
    private async Task<bool> IsCommittedAsync(WorkUnit unit, CancellationToken cancellationToken)
    {
        foreach (var blob in unit.Records)
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
    /// Deletes the outbox blob of <paramref name="record"/>. Unconditional: any copy there has the
    /// id of the event already published (or of one that must not be).
    /// </summary>
    private Task DiscardAsync(BlobClient record, CancellationToken cancellationToken) =>
        Outbox(record).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    private MageEvent Create(MageEventDraft announce) =>
        MageEvent.Create(announce.Type, announce.Subject, announce.VersionKey, announce.Data, time.GetUtcNow());

    /// <summary>The outbox blob of a record: in the jobs container, which only the service writes, so only events it staged are ever published.</summary>
    private BlobClient Outbox(BlobClient record) =>
        blobs.GetBlobContainerClient(storage.Value.JobsContainer).GetBlobClient(ResultsLayout.Outbox(record.BlobContainerName, record.Name));
}

using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Coordination;

/// <summary>
/// A claim on one unit of work (a job's listing, a shard, a request, an upload version): a blob
/// lease on an empty marker blob, taken before the work and renewed in the background while it
/// runs. Disposing stops the renewal and deletes the marker with the lease id, which frees the
/// claim; a claimer that dies frees it when the lease lapses (<see cref="LeaseDuration"/>).
/// </summary>
/// <remarks>
/// One owner: the delivery that acquired it; dispose it exactly once. The claim only keeps copies
/// from doing the same work at the same time; commits stay conditional (If-None-Match: *, ETags),
/// so a claim lost to a stalled renewal costs duplicate work, never duplicate results.
/// </remarks>
internal sealed class WorkClaim : IAsyncDisposable
{
    /// <summary>
    /// How long a claim outlives its claimer: the shortest blob lease (15-60 s allowed), so a dead
    /// claimer's work is free again before its message's 30 s lease (<c>mage worker</c>) or
    /// visibility timeout (host.json) brings the message back.
    /// </summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    /// <summary>The marker's metadata that <see cref="NoteProgress"/> writes: decoding steps done so far.</summary>
    public const string StepsDoneMetadata = "stepsdone";

    /// <summary>The marker's metadata that <see cref="NoteProgress"/> writes: decoding steps the work runs in all.</summary>
    public const string StepsTotalMetadata = "stepstotal";

    /// <summary>Progress notes are written at most this often: one small write a second per running request.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RenewEvery = LeaseDuration / 3;

    private readonly BlobClient marker;
    private readonly BlobLeaseClient lease;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewing;
    private readonly Lock progressGate = new();
    private Task noting = Task.CompletedTask;
    private long lastNoted;

    private WorkClaim(BlobClient marker, BlobLeaseClient lease)
    {
        this.marker = marker;
        this.lease = lease;
        renewing = RenewAsync();
    }

    /// <summary>
    /// Takes the claim whose marker is <paramref name="marker"/>, or returns null while another
    /// delivery holds it. Storage failures (a missing container among them) propagate.
    /// </summary>
    public static async Task<WorkClaim?> TryAcquireAsync(BlobClient marker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(marker);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                await marker.UploadAsync(BinaryData.Empty, new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (StorageFailures.IsConditionFailed(e))
            {
                // The marker exists: claimed now, or left by a claimer that died.
            }

            var lease = marker.GetBlobLeaseClient();
            try
            {
                await lease.AcquireAsync(LeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new WorkClaim(marker, lease);
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.LeaseAlreadyPresent)
            {
                return null;
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
            {
                // The holder released (deleted) the marker between our create and acquire: try again.
            }
        }

        return null;
    }

    /// <summary>The progress note being written, if any (tests wait for it).</summary>
    internal Task Noting
    {
        get
        {
            lock (progressGate)
            {
                return noting;
            }
        }
    }

    /// <summary>
    /// Notes on the marker (metadata <see cref="StepsDoneMetadata"/>, <see cref="StepsTotalMetadata"/>,
    /// under the lease) how far the work has got, for status readers. At most one note every
    /// <see cref="ProgressEvery"/> and one write at a time; a note that comes too soon is dropped, not
    /// queued. Never blocks and never throws: progress is advisory, and the marker goes when the claim does.
    /// </summary>
    public void NoteProgress(int done, int total)
    {
        lock (progressGate)
        {
            var now = Stopwatch.GetTimestamp();
            if (!noting.IsCompleted || (lastNoted != 0 && Stopwatch.GetElapsedTime(lastNoted, now) < ProgressEvery))
            {
                return;
            }

            lastNoted = now;
            noting = NoteAsync(done, total);
        }
    }

    /// <summary>Stops renewing and frees the claim. Never throws: an unreleased claim lapses by itself.</summary>
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await renewing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Noting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
        try
        {
            await marker.DeleteAsync(conditions: new BlobRequestConditions { LeaseId = lease.LeaseId }).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // The lease was lost (and maybe taken by another delivery): leave the marker to its holder.
        }
    }

    private async Task NoteAsync(int done, int total)
    {
        var metadata = new Dictionary<string, string>
        {
            [StepsDoneMetadata] = done.ToString(CultureInfo.InvariantCulture),
            [StepsTotalMetadata] = total.ToString(CultureInfo.InvariantCulture),
        };
        try
        {
            await marker.SetMetadataAsync(metadata, new BlobRequestConditions { LeaseId = lease.LeaseId }, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException)
        {
            // The claim is being freed or was lost: the note no longer matters.
        }
    }

    private async Task RenewAsync()
    {
        // Runs until disposed; a failed renewal ends it (the lease then lapses, see the remarks).
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(RenewEvery, stop.Token).ConfigureAwait(false);
            await lease.RenewAsync(cancellationToken: stop.Token).ConfigureAwait(false);
        }
    }
}

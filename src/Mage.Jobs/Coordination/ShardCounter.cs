using Mage.Jobs.BulkJobs;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Coordination;

/// <summary>
/// Counts each shard of a job exactly once. A shard is counted in its stripe (<see cref="JobStripe"/>;
/// a job has <see cref="JobStatus.Stripes"/> of them), and the worker that completes a stripe folds
/// it into the status document and deletes it, so the status document takes K writes per job
/// instead of one per shard, and each stripe a K-th of the shard commits.
/// </summary>
/// <remarks>
/// Thread-safe. Exactly once: a stripe's bitmap and its ETag keep one shard from counting twice in
/// the stripe, and the status document's bitmap keeps a stripe from folding twice. A stripe is
/// deleted only after it is folded, and only once all its shards are counted; so a counter that
/// finds no stripe checks the status document before it creates one, and the only copy that could
/// find the stripe gone with its own shard in it is a second copy of the same shard counting at the
/// same moment, which the shard's claim (<see cref="ResultsLayout.ShardClaim"/>) rules out.
/// Shards of a job still listing count in their stripes, which fold only once the listing has
/// ended (<see cref="JobStripe.IsCompleteIn"/>).
/// </remarks>
internal sealed class ShardCounter(JobStatusStore statuses, TimeProvider time)
{
    /// <summary>
    /// The job's status when <paramref name="shard"/> is already counted (after finishing the fold of
    /// its stripe, should a counter have died before folding it), or null when it is not.
    /// </summary>
    public async Task<JobStatus?> FindCountedAsync(JobStatus status, int shard, CancellationToken cancellationToken)
    {
        if (status.IsShardCounted(shard))
        {
            return status;
        }

        var stripe = await statuses.GetStripeAsync(status.JobId, JobStripe.IndexOf(shard, status.Stripes), cancellationToken).ConfigureAwait(false);
        if (stripe is null || !stripe.IsCounted(shard))
        {
            return null;
        }

        return stripe.IsCompleteIn(status) ? await FoldAsync(status, stripe, cancellationToken).ConfigureAwait(false) : status;
    }

    /// <summary>
    /// Counts <paramref name="shard"/> once (a shard already counted is left as it is). Returns the
    /// job's status as far as this call saw it (completed when this or an earlier count finished
    /// the job), or null when the job has no status.
    /// </summary>
    public async Task<JobStatus?> CountAsync(JobStatus status, int shard, long imagesOk, long imagesFailed, bool shardFailed, CancellationToken cancellationToken)
    {
        var index = JobStripe.IndexOf(shard, status.Stripes);
        while (true)
        {
            var stripe = await statuses.UpdateStripeAsync(status.JobId, index, s => s.IsCounted(shard) ? null : s.WithShard(shard, imagesOk, imagesFailed, shardFailed, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            if (stripe is null)
            {
                // No stripe: nothing counted into it yet, or folded (with this shard) and deleted.
                var current = (await statuses.GetDocumentAsync(status.JobId, cancellationToken).ConfigureAwait(false))?.Status;
                if (current is null || current.State.IsFinal() || current.IsStripeFolded(index))
                {
                    return current;
                }

                var now = time.GetUtcNow();
                var created = JobStripe.Empty(index, status.Stripes, now).WithShard(shard, imagesOk, imagesFailed, shardFailed, now);
                if (!await statuses.TryCreateStripeAsync(status.JobId, created, cancellationToken).ConfigureAwait(false))
                {
                    continue; // another shard of the stripe created it first: count into theirs
                }

                stripe = created;
            }

            // Counted while the job was listing: read the document again, after the stripe write. The
            // listing ends by writing the document, then folding the stripes it finds complete
            // (FoldCompleteAsync); of the two, at least one sees the other's write, so a stripe
            // completed around that moment is always folded, by one or by both (folding is idempotent).
            var judge = status.State == JobState.Listing
                ? (await statuses.GetDocumentAsync(status.JobId, cancellationToken).ConfigureAwait(false))?.Status ?? status
                : status;
            return stripe.IsCompleteIn(judge) ? await FoldAsync(judge, stripe, cancellationToken).ConfigureAwait(false) : judge;
        }
    }

    /// <summary>
    /// Folds every stripe that is complete now that <paramref name="status"/>'s listing has ended
    /// (one List call): the shards counted while the job was listing. Returns the status after
    /// (completed when they were the last).
    /// </summary>
    public async Task<JobStatus> FoldCompleteAsync(JobStatus status, CancellationToken cancellationToken)
    {
        foreach (var stripe in await statuses.ListStripesAsync(status.JobId, cancellationToken).ConfigureAwait(false))
        {
            if (stripe.Stripes == status.Stripes && stripe.IsCompleteIn(status))
            {
                status = await FoldAsync(status, stripe, cancellationToken).ConfigureAwait(false);
            }
        }

        return status;
    }

    /// <summary>Adds a complete stripe to the status document (once), then deletes it. Returns the status after.</summary>
    private async Task<JobStatus> FoldAsync(JobStatus status, JobStripe stripe, CancellationToken cancellationToken)
    {
        var updated = await statuses.UpdateAsync(status.JobId, s => s.State.IsFinal() || s.IsStripeFolded(stripe.Index) ? null : s.WithStripe(stripe, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        await statuses.DeleteStripeAsync(status.JobId, stripe.Index, cancellationToken).ConfigureAwait(false);
        return updated?.After ?? status;
    }
}

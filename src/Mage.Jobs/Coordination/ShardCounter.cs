using Mage.Jobs.BulkJobs;

namespace Mage.Jobs.Coordination;

/// <summary>
/// Counts each shard of a job exactly once. A shard is counted in its stripe (<see cref="JobStripe"/>;
/// a job has <see cref="JobStatus.Stripes"/> of them), so each stripe takes a K-th of the shard
/// commits. The stripes are not folded into the status document one by one: a counter that
/// completes a stripe lists the job's stripes (one List call) and, when they count every shard,
/// folds them all in one write that completes the job. The K folds of a job used to land on
/// <c>status.json</c> together at its end (741 lost writes at 256 workers, docs/scale.md); now it
/// takes one write at completion.
/// </summary>
/// <remarks>
/// Thread-safe. Exactly once: a stripe's bitmap and its ETag keep one shard from counting twice in
/// the stripe, and the status document's bitmap keeps a stripe from folding twice. Stripes are
/// deleted only once the job is completed (<see cref="JobCompletion"/>), so a counter that finds no
/// stripe checks the status document before it creates one. Completion: two counters completing
/// the last two stripes each write their stripe, then list; at least one of them sees both
/// complete, and the fold is idempotent (a completed document is left as it is). Shards of a job
/// still listing count in their stripes, which are complete only once the listing has ended
/// (<see cref="JobStripe.IsCompleteIn"/>).
/// </remarks>
internal sealed class ShardCounter(JobStatusStore statuses, TimeProvider time)
{
    /// <summary>
    /// The job's status when <paramref name="shard"/> is already counted (after completing the job,
    /// should a counter have died before doing so), or null when it is not.
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

        return stripe.IsCompleteIn(status) ? await TryCompleteAsync(status, cancellationToken).ConfigureAwait(false) : status;
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
                // No stripe: nothing counted into it yet, or the job completed (and its stripes went).
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
            // listing ends by writing the document, then looking at the stripes (TryCompleteAsync);
            // of the two, at least one sees the other's write, so a job whose last shard finishes
            // around that moment is always completed, by one or by both.
            var judge = status.State == JobState.Listing
                ? (await statuses.GetDocumentAsync(status.JobId, cancellationToken).ConfigureAwait(false))?.Status ?? status
                : status;
            return stripe.IsCompleteIn(judge) ? await TryCompleteAsync(judge, cancellationToken).ConfigureAwait(false) : judge;
        }
    }

    /// <summary>
    /// Completes the job when its stripes (one List call) and its status document count every
    /// shard: all the stripes are folded in one write. Returns the completed status when this call
    /// wrote it, else <paramref name="status"/> as it was: a caller that finds the job completed by
    /// another leaves the manifest to that one (whose message, or job message, comes back if it
    /// dies), so the callers finishing a job's last stripes together do not all queue for the
    /// completion claim.
    /// </summary>
    public async Task<JobStatus> TryCompleteAsync(JobStatus status, CancellationToken cancellationToken)
    {
        if (status.State != JobState.Running)
        {
            return status;
        }

        var stripes = (await statuses.ListStripesAsync(status.JobId, cancellationToken).ConfigureAwait(false)).Where(s => s.Stripes == status.Stripes).ToList();
        var updated = await statuses.UpdateAsync(status.JobId, s =>
        {
            if (s.State != JobState.Running)
            {
                return null;
            }

            var all = s.WithStripes([.. stripes.Where(stripe => !s.IsStripeFolded(stripe.Index))], time.GetUtcNow());
            return all.State == JobState.Completed ? all : null;
        }, cancellationToken).ConfigureAwait(false);
        return updated is { } u && !ReferenceEquals(u.Before, u.After) ? u.After : status;
    }
}

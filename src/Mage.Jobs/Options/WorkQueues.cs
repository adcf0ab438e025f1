using Mage.Jobs.BulkJobs;

namespace Mage.Jobs.Options;

/// <summary>
/// The work queues in one table: each queue's setting, label, worker slots and service. The
/// settings (<see cref="StorageSettings.QueueName"/>), the dispatcher, <c>mage worker</c> and its
/// logs read it; the Functions app binds one trigger per queue to the same services.
/// </summary>
public static class WorkQueues
{
    /// <summary>
    /// Every queue. Slots: a shard already embeds its images concurrently (batches of 16), so two
    /// keep the engine busy while one commits; edits are mostly single images and share the
    /// engine's batches; a generation message holds up to 64 images; a job message lists blobs and
    /// enqueues shards, which is storage work.
    /// </summary>
    public static IReadOnlyList<WorkQueueEntry> All { get; } =
    [
        new(WorkQueue.Jobs, nameof(StorageSettings.JobsQueue), "job", 2, s => s.JobsQueue,
            async (d, m, ct) => OutcomeOf(await d.Jobs.SubmitAsync(m, ct).ConfigureAwait(false))),
        new(WorkQueue.Shards, nameof(StorageSettings.ShardsQueue), "shard", 2, s => s.ShardsQueue,
            async (d, m, ct) => (await d.Shards.ProcessAsync(m, null, ct).ConfigureAwait(false)).Status),
        new(WorkQueue.Edits, nameof(StorageSettings.EditsQueue), "edit", 8, s => s.EditsQueue,
            async (d, m, ct) => (await d.Edits.ProcessAsync(m, ct).ConfigureAwait(false)).Status),
        new(WorkQueue.Generate, nameof(StorageSettings.GenerateQueue), "generate", 4, s => s.GenerateQueue,
            async (d, m, ct) => (await d.Generate.ProcessAsync(m, ct).ConfigureAwait(false)).Status),
    ];

    /// <summary>The entry of <paramref name="queue"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The queue has no entry.</exception>
    public static WorkQueueEntry Of(WorkQueue queue) =>
        All.FirstOrDefault(e => e.Queue == queue) ?? throw new ArgumentOutOfRangeException(nameof(queue), queue, "Unknown work queue.");

    private static Vocabulary.WorkOutcome OutcomeOf(JobStatus? status) => status?.State switch
    {
        null => Vocabulary.WorkOutcome.Rejected,
        JobState.Failed => Vocabulary.WorkOutcome.Failed,
        JobState.Completed => Vocabulary.WorkOutcome.Completed,
        _ => Vocabulary.WorkOutcome.Running,
    };
}

using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Which service handles which work queue, in one table: <c>mage worker</c> polls every
/// <see cref="WorkQueue"/> through it (the Functions app binds one trigger per queue to the same
/// services). Adding a kind of work means a member of <see cref="WorkQueue"/>, its queue name in
/// <see cref="StorageSettings"/>, a case here and a trigger.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class WorkDispatcher(SubmitJobService jobs, ProcessShardService shards, EditService edits, GenerateService generate)
{
    /// <summary>Handles one message of <paramref name="queue"/>. Bad input ends in an error record; what throws is transient.</summary>
    public async Task<Outcome> HandleAsync(WorkQueue queue, string message, CancellationToken cancellationToken = default) => queue switch
    {
        WorkQueue.Jobs => OutcomeOf(await jobs.SubmitAsync(message, cancellationToken).ConfigureAwait(false)),
        WorkQueue.Shards => (await shards.ProcessAsync(message, null, cancellationToken).ConfigureAwait(false)).Status,
        WorkQueue.Edits => (await edits.ProcessAsync(message, cancellationToken).ConfigureAwait(false)).Status,
        WorkQueue.Generate => (await generate.ProcessAsync(message, cancellationToken).ConfigureAwait(false)).Status,
        _ => throw new ArgumentOutOfRangeException(nameof(queue), queue, "Unknown work queue."),
    };

    private static Outcome OutcomeOf(JobStatus? status) => status?.State switch
    {
        null => Outcome.Rejected,
        JobState.Failed => Outcome.Failed,
        JobState.Completed => Outcome.Completed,
        _ => Outcome.Running,
    };
}

using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Hands a message of any work queue to its service, as <see cref="WorkQueues"/> says: <c>mage
/// worker</c> polls every queue through it.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class WorkDispatcher(SubmitJobService jobs, ProcessShardService shards, EditService edits, GenerateService generate)
{
    internal SubmitJobService Jobs => jobs;

    internal ProcessShardService Shards => shards;

    internal EditService Edits => edits;

    internal GenerateService Generate => generate;

    /// <summary>Handles one message of <paramref name="queue"/>. Bad input ends in an error record; what throws is transient.</summary>
    public Task<WorkOutcome> HandleAsync(WorkQueue queue, string message, CancellationToken cancellationToken = default) =>
        WorkQueues.Of(queue).HandleAsync(this, message, cancellationToken);
}

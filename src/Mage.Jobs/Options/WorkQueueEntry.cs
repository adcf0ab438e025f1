using Mage.Jobs.Hosting;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Options;

/// <summary>One kind of queued work, as <see cref="WorkQueues"/> lists it. Immutable and thread-safe.</summary>
public sealed class WorkQueueEntry
{
    private readonly Func<StorageSettings, string> name;
    private readonly Func<WorkDispatcher, string, CancellationToken, Task<WorkOutcome>> handle;

    internal WorkQueueEntry(
        WorkQueue queue, string setting, string label, int slots, Func<StorageSettings, string> name, Func<WorkDispatcher, string, CancellationToken, Task<WorkOutcome>> handle)
    {
        Queue = queue;
        Setting = setting;
        Label = label;
        Slots = slots;
        this.name = name;
        this.handle = handle;
    }

    /// <summary>The queue; its wire name is what <c>mage queue send</c> takes.</summary>
    public WorkQueue Queue { get; }

    /// <summary>The setting that names the queue: <c>Mage:Storage:{Setting}</c>, a property of <see cref="StorageSettings"/>.</summary>
    public string Setting { get; }

    /// <summary>How logs and the worker's tally name one message of the queue (<c>job</c>, <c>shard</c>, …).</summary>
    public string Label { get; }

    /// <summary>How many messages of the queue one <c>mage worker</c> runs at a time.</summary>
    public int Slots { get; }

    /// <summary>The queue's configured name.</summary>
    public string NameIn(StorageSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return name(settings);
    }

    /// <summary>Hands one message to the queue's service.</summary>
    internal Task<WorkOutcome> HandleAsync(WorkDispatcher dispatcher, string message, CancellationToken cancellationToken) => handle(dispatcher, message, cancellationToken);
}

using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.Vocabulary;

/// <summary>
/// What handling one message or upload came to: returned by every job service and tallied by
/// <c>mage worker</c>'s logs. Never written to a record; records carry a <see cref="RecordStatus"/>.
/// </summary>
[JsonConverter(typeof(WireNameConverter<WorkOutcome>))]
public enum WorkOutcome
{
    /// <summary>Done now: results written and the event published.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    /// <summary>Refused or broken input: an error record says why.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Already done by an earlier delivery; nothing written.</summary>
    [JsonStringEnumMemberName("skipped")]
    Skipped,

    /// <summary>The upload was deleted or replaced before it was read; its new version has its own event.</summary>
    [JsonStringEnumMemberName("gone")]
    Gone,

    /// <summary>A shard's part was committed by this delivery.</summary>
    [JsonStringEnumMemberName("committed")]
    Committed,

    /// <summary>A shard's part had been committed by another delivery; this one only made sure it was counted.</summary>
    [JsonStringEnumMemberName("alreadyCommitted")]
    AlreadyCommitted,

    /// <summary>A shard was already counted in its job's status.</summary>
    [JsonStringEnumMemberName("alreadyCounted")]
    AlreadyCounted,

    /// <summary>A shard message that names no runnable shard (unreadable, unknown job, job failed).</summary>
    [JsonStringEnumMemberName("ignored")]
    Ignored,

    /// <summary>A job message that named no usable job id: recorded under <c>rejected/</c> in the jobs container.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,

    /// <summary>A job message that left its job running: listed and its shards enqueued, now or by an earlier delivery.</summary>
    [JsonStringEnumMemberName("running")]
    Running,
}

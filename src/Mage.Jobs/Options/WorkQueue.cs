using System.Text.Json.Serialization;
using Mage.Inference;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Requests;

namespace Mage.Jobs.Options;

/// <summary>
/// The queues that carry work; <see cref="WorkQueues"/> gives each its setting, label, slots and
/// service. The wire names are what <c>mage queue send</c> takes.
/// </summary>
[JsonConverter(typeof(WireNameConverter<WorkQueue>))]
public enum WorkQueue
{
    /// <summary>Bulk job messages (<see cref="SubmitJobService"/>).</summary>
    [JsonStringEnumMemberName("jobs")]
    Jobs,

    /// <summary>Shard messages of running jobs (<see cref="ProcessShardService"/>).</summary>
    [JsonStringEnumMemberName("shards")]
    Shards,

    /// <summary>Inpaint, outpaint and uncrop requests (<see cref="EditService"/>).</summary>
    [JsonStringEnumMemberName("edits")]
    Edits,

    /// <summary>Generation requests (<see cref="GenerateService"/>).</summary>
    [JsonStringEnumMemberName("generate")]
    Generate,
}

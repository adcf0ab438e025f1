using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.BulkJobs;

/// <summary>A bulk job's state, in order: listing, running, then completed or failed.</summary>
[JsonConverter(typeof(WireNameConverter<JobState>))]
public enum JobState
{
    /// <summary>The submitter is listing the source into shards.</summary>
    [JsonStringEnumMemberName("listing")]
    Listing,

    /// <summary>Shards are enqueued and being embedded.</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>Every shard is counted; the manifest is written.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    /// <summary>The job was refused or could not run; <see cref="JobStatus.Reason"/> says why.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}

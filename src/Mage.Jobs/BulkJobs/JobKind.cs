using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.BulkJobs;

/// <summary>What a bulk job writes for each image: the job message's <c>kind</c>.</summary>
[JsonConverter(typeof(WireNameConverter<JobKind>))]
public enum JobKind
{
    /// <summary>The pooled feature (the default): Parquet column <c>embedding</c>, list&lt;float&gt;.</summary>
    [JsonStringEnumMemberName("embeddings")]
    Embeddings,

    /// <summary>The 256 token ids: Parquet column <c>tokens</c>, list&lt;int64&gt;.</summary>
    [JsonStringEnumMemberName("tokens")]
    Tokens,
}

using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Jobs.BulkJobs;

/// <summary>A shard of a job: the blobs it covers and how to embed them. Stored as <c>jobs/{jobId}/shards/{n}.json</c>.</summary>
internal sealed record ShardDocument(
    string JobId,
    int Shard,
    string SourceContainer,
    string OutputContainer,
    string OutputPrefix,
    FeaturePooling Pooling,
    bool Normalize,
    PreprocessMode Preprocess,
    IReadOnlyList<ShardBlob> Blobs);

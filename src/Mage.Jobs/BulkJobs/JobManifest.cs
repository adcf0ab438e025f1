using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Jobs.BulkJobs;

/// <summary>The manifest of a completed job.</summary>
public sealed record JobManifest(
    string JobId,
    JobState State,
    string Container,
    IReadOnlyList<ManifestPart> Parts,
    long ImagesTotal,
    long ImagesDone,
    long ImagesFailed,
    int ShardsTotal,
    int ShardsFailed,
    JobKind? Kind,
    FeaturePooling? Pooling,
    bool Normalize,
    PreprocessMode? Preprocess);

using Mage.Inference;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.Requests;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// A bulk job as it arrives (queue message or HTTP body). Unknown members are rejected; kind,
/// pooling and preprocess take their <see cref="WireNames"/> and default to
/// <see cref="JobKind.Embeddings"/>, <see cref="MageDefaults.Pooling"/> and <see cref="MageDefaults.EmbedPreprocess"/>.
/// </summary>
public sealed record JobMessage(
    string? JobId,
    JobKind? Kind,
    JobSourceRequest? Source,
    OutputRequest? Output,
    FeaturePooling? Pooling,
    bool? Normalize,
    PreprocessMode? Preprocess,
    int? ShardSize)
{
    /// <summary>
    /// Who submitted the job over HTTP (<see cref="Http.ApiCaller.Name"/>): set by the API, refused
    /// in an HTTP body; queue senders may leave it out.
    /// </summary>
    public string? Caller { get; init; }

    /// <summary>
    /// The listing range this copy of the job message lists (<see cref="JobStatus.ListRanges"/>):
    /// set by the service on the messages it sends for a job listed in ranges; refused in an HTTP
    /// body. Null for the job message itself.
    /// </summary>
    public int? ListRange { get; init; }
}

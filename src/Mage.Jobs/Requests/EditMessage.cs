using Mage.Inference;
using Mage.Inference.Imaging;

namespace Mage.Jobs.Requests;

/// <summary>
/// An inpaint, outpaint or uncrop request as it arrives. Unknown members are rejected; absent
/// schedule values take <see cref="MageDefaults.EditSteps"/> and <see cref="MageDefaults.EditTemperature"/>,
/// an absent preprocess <see cref="MageDefaults.EditPreprocess"/>.
/// </summary>
public sealed record EditMessage(
    string? RequestId,
    RequestKind? Kind,
    BlobRef? Source,
    BlobRef? Mask,
    IReadOnlyList<IReadOnlyList<int>>? Boxes,
    int? Dilate,
    int? Left,
    int? Right,
    int? Top,
    int? Bottom,
    double? Scale,
    IReadOnlyList<int>? Position,
    int? Steps,
    double? Temperature,
    ulong? Seed,
    bool? Deterministic,
    bool? Blend,
    PreprocessMode? Preprocess,
    OutputRequest? Output) : IRequestMessage
{
    /// <summary>The source image and, for a mask inpaint, the mask.</summary>
    IEnumerable<(BlobRef Blob, string Field)> IRequestMessage.Reads =>
        new (BlobRef? Blob, string Field)[] { (Source, "source"), (Mask, "mask") }.Where(r => r.Blob is not null).Select(r => (r.Blob!, r.Field));
}

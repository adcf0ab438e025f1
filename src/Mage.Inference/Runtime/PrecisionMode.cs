using System.Text.Json.Serialization;

namespace Mage.Inference.Runtime;

/// <summary>
/// How much arithmetic precision CUDA may trade for speed (docs/operations.md, precision modes).
/// The CPU provider computes in float32 in every mode, so the mode changes nothing there.
/// </summary>
[JsonConverter(typeof(WireNameConverter<PrecisionMode>))]
public enum PrecisionMode
{
    /// <summary>
    /// Float32 everywhere (TF32 off) and transformer calls of a fixed size on CUDA, so a seeded
    /// image does not depend on the requests beside it. Checked against PyTorch's float32 outputs
    /// with the float32 bounds of <see cref="Packages.GoldenCheck"/>.
    /// </summary>
    [JsonStringEnumMemberName("exact")]
    Exact,

    /// <summary>
    /// PyTorch's own CUDA defaults: the VQGAN convolutions in TF32, the transformer's matrix
    /// products in float32, the tokenizer's nearest-code distances strict (float64 in packages
    /// whose manifest says so), batches padded to a few bucket sizes.
    /// </summary>
    [JsonStringEnumMemberName("pytorch")]
    PyTorch,

    /// <summary>
    /// TF32 in every graph (float16 packages compute in half precision in any mode), checked with
    /// the float16 bounds.
    /// </summary>
    [JsonStringEnumMemberName("fast")]
    Fast,
}

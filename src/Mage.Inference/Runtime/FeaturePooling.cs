using System.Text.Json.Serialization;

namespace Mage.Inference.Runtime;

/// <summary>
/// Which pooled feature the encoder returns (docs/model.md#pooling-modes). The wire names are also the
/// names of the encoder graph's outputs.
/// </summary>
[JsonConverter(typeof(WireNameConverter<FeaturePooling>))]
public enum FeaturePooling
{
    /// <summary>Blocks without the final norm, mean of positions 1..256, LayerNorm without affine: the linear-probe representation.</summary>
    [JsonStringEnumMemberName("linprobe")]
    Linprobe,

    /// <summary>Position 0 (the fake class) after the final norm.</summary>
    [JsonStringEnumMemberName("cls")]
    Cls,

    /// <summary>Mean of positions 1..256 after the final norm.</summary>
    [JsonStringEnumMemberName("mean")]
    Mean,
}

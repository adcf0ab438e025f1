using System.Text.Json.Serialization;

namespace Mage.Inference.Runtime;

/// <summary>
/// How cuDNN picks a convolution algorithm for each new input shape (ONNX Runtime's CUDA option
/// <c>cudnn_conv_algo_search</c>). With batch buckets and warm-up the search runs at start-up.
/// </summary>
[JsonConverter(typeof(WireNameConverter<ConvAlgorithmSearch>))]
public enum ConvAlgorithmSearch
{
    /// <summary>Time every algorithm once per shape and keep the fastest (ONNX Runtime's default).</summary>
    [JsonStringEnumMemberName("exhaustive")]
    Exhaustive,

    /// <summary>cuDNN's heuristics choose without timing: no search cost, sometimes a slower kernel.</summary>
    [JsonStringEnumMemberName("heuristic")]
    Heuristic,

    /// <summary>cuDNN's default algorithm for every shape.</summary>
    [JsonStringEnumMemberName("default")]
    Default,
}

using System.Globalization;
using Mage.Inference.Packages;

namespace Mage.Inference.Runtime;

/// <summary>
/// What a <see cref="PrecisionMode"/> means for each graph: the one place that decides which
/// sessions may use TF32 and the CUDA provider options that follow (TF32 is a per-session option
/// of ONNX Runtime's CUDA provider, for matrix products and convolutions alike).
/// </summary>
internal static class GraphPrecision
{
    /// <summary>The package's graphs whose float32 work is convolutions (the VQGAN halves).</summary>
    private static readonly HashSet<string> ConvolutionGraphs = ["tokenizer", "detokenizer"];

    /// <summary>
    /// Whether <paramref name="role"/>'s session runs with TF32 in <paramref name="mode"/>.
    /// <c>pytorch</c> follows PyTorch's CUDA defaults (TF32 convolutions, float32 matrix
    /// products), except that the tokenizer gets TF32 only when its nearest-code distances are
    /// float64, which TF32 never touches; in older packages the distances are float32 matrix
    /// products in the same session, so the tokenizer stays strict.
    /// </summary>
    public static bool UsesTf32(PrecisionMode mode, string role, ModelManifest manifest) => mode switch
    {
        PrecisionMode.Exact => false,
        PrecisionMode.Fast => true,
        _ => role == "tokenizer" ? manifest.TokensIgnoreTf32 : ConvolutionGraphs.Contains(role),
    };

    /// <summary>ONNX Runtime's CUDA provider options for one graph's session.</summary>
    public static Dictionary<string, string> CudaProviderOptions(MageModelOptions options, string role, ModelManifest manifest, int deviceId) => new()
    {
        ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture),
        ["use_tf32"] = UsesTf32(options.Precision, role, manifest) ? "1" : "0",
        ["cudnn_conv_algo_search"] = options.ConvAlgorithmSearch switch
        {
            ConvAlgorithmSearch.Heuristic => "HEURISTIC",
            ConvAlgorithmSearch.Default => "DEFAULT",
            _ => "EXHAUSTIVE",
        },
    };
}

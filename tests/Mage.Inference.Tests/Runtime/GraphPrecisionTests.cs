using Mage.Inference.Packages;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>
/// Which sessions each precision mode gives TF32, and the CUDA provider options that carry it.
/// No GPU is needed: these are the options ONNX Runtime receives.
/// </summary>
public sealed class GraphPrecisionTests
{
    private static readonly ModelManifest Float64Distances = new() { Quantizer = ModelPackage.QuantizerFloat64 };
    private static readonly ModelManifest Float32Distances = new();

    private static string[] Tf32Graphs(PrecisionMode mode, ModelManifest manifest) =>
        [.. ModelPackage.GraphRoles.Append("sampler").Where(role => GraphPrecision.UsesTf32(mode, role, manifest))];

    [Fact]
    public void Exact_gives_no_graph_TF32()
    {
        Assert.Empty(Tf32Graphs(PrecisionMode.Exact, Float64Distances));
    }

    [Fact]
    public void Pytorch_gives_TF32_to_the_convolution_graphs_and_keeps_the_transformer_strict()
    {
        Assert.Equal(["tokenizer", "detokenizer"], Tf32Graphs(PrecisionMode.PyTorch, Float64Distances));
    }

    [Fact]
    public void Pytorch_keeps_the_tokenizer_strict_when_its_distances_are_float32()
    {
        Assert.False(Float32Distances.TokensIgnoreTf32);
        Assert.Equal(["detokenizer"], Tf32Graphs(PrecisionMode.PyTorch, Float32Distances));
    }

    [Fact]
    public void Fast_gives_every_graph_TF32()
    {
        Assert.Equal(["tokenizer", "encoder", "decoder", "detokenizer", "sampler"], Tf32Graphs(PrecisionMode.Fast, Float32Distances));
    }

    [Theory]
    [InlineData(PrecisionMode.Exact, ConvAlgorithmSearch.Exhaustive, "detokenizer", "0", "EXHAUSTIVE")]
    [InlineData(PrecisionMode.PyTorch, ConvAlgorithmSearch.Heuristic, "detokenizer", "1", "HEURISTIC")]
    [InlineData(PrecisionMode.PyTorch, ConvAlgorithmSearch.Default, "decoder", "0", "DEFAULT")]
    [InlineData(PrecisionMode.Fast, ConvAlgorithmSearch.Exhaustive, "encoder", "1", "EXHAUSTIVE")]
    public void The_CUDA_provider_options_carry_the_mode_and_the_search(PrecisionMode mode, ConvAlgorithmSearch search, string role, string tf32, string algo)
    {
        var options = new MageModelOptions { Precision = mode, ConvAlgorithmSearch = search };

        var cuda = GraphPrecision.CudaProviderOptions(options, role, Float64Distances, deviceId: 3);

        Assert.Equal("3", cuda["device_id"]);
        Assert.Equal(tf32, cuda["use_tf32"]);
        Assert.Equal(algo, cuda["cudnn_conv_algo_search"]);
    }
}

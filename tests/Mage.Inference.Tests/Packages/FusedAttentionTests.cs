using System.Text.Json;
using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using Mage.Inference.Tests.Numpy;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Packages;

/// <summary>
/// The exporter writes each transformer block's attention as ONNX Runtime's fused
/// <c>com.microsoft.MultiHeadAttention</c> (tools/export/mage_export/transformer.py). These tests
/// export the tiny architecture afresh and read ONNX Runtime's own profile of the CPU provider:
/// which kernels actually ran, not which nodes the file holds.
/// </summary>
public sealed class FusedAttentionTests(ITestOutputHelper output)
{
    // The tiny architecture (tools/export/mage_export/archs.py): 2 encoder and 2 decoder blocks.
    private const int EncoderBlocks = 2;
    private const int DecoderBlocks = 2;

    [PythonFact]
    public void Each_block_runs_one_fused_attention_kernel_and_no_softmax()
    {
        using var temp = new TempFolder();
        var folder = TinyExport.Run(temp, ModelPackage.Float32);
        var prefix = temp["profile"];
        using (var model = MageModel.Load(new MageModelOptions { PackagePath = folder, Device = "cpu", ProfilePrefix = prefix }))
        {
            var golden = NpzFile.Read(model.Package.GoldenPath!);
            var batch = golden["tokens"].Shape[0];
            model.Features(golden["tokens"].ToInt64Array(), batch, FeaturePooling.Linprobe, new float[batch * model.FeatureDim]);
            model.Logits(golden["decoder_ids"].ToInt64Array(), batch, new float[batch * MageTokens.Count * MageTokens.CodebookSize]);
        } // disposing the model writes the profiles

        // Features ran the encoder once and Logits once more; Logits ran the decoder once.
        var encoder = KernelRuns(prefix, "encoder");
        var decoder = KernelRuns(prefix, "decoder");
        Assert.Equal(2 * EncoderBlocks, encoder.GetValueOrDefault("MultiHeadAttention"));
        Assert.Equal(DecoderBlocks, decoder.GetValueOrDefault("MultiHeadAttention"));
        Assert.False(encoder.ContainsKey("Softmax"), Describe("encoder", encoder));
        Assert.False(decoder.ContainsKey("Softmax"), Describe("decoder", decoder));

        // ONNX Runtime's other fusions, as they were before attention was fused (the profile of the
        // same export without it showed the same): each MLP's bias and GELU run as one BiasGelu
        // (the decoder's prediction head has one more), and the norms as LayerNormalization.
        // SkipLayerNormalization is not formed, before or after: in these pre-norm blocks each
        // residual sum feeds both the next norm and the next residual Add.
        Assert.Equal(2 * EncoderBlocks, encoder.GetValueOrDefault("BiasGelu"));
        Assert.Equal(DecoderBlocks + 1, decoder.GetValueOrDefault("BiasGelu"));
        Assert.True(encoder.GetValueOrDefault("LayerNormalization") >= 2 * ((2 * EncoderBlocks) + 1), Describe("encoder", encoder));
        Assert.True(decoder.GetValueOrDefault("LayerNormalization") >= (2 * DecoderBlocks) + 1, Describe("decoder", decoder));
        Assert.False(encoder.ContainsKey("SkipLayerNormalization"), Describe("encoder", encoder));
        Assert.False(encoder.ContainsKey("Erf"), "GELU was not fused: " + Describe("encoder", encoder));
    }

    [PythonFact]
    public void An_fp16_export_with_fused_attention_holds_the_fp16_bounds()
    {
        using var temp = new TempFolder();
        var folder = TinyExport.Run(temp, ModelPackage.Float16);
        using var model = MageModel.Load(new MageModelOptions { PackagePath = folder, Device = "cpu" });
        Assert.Equal(ModelPackage.Float16, model.Package.Manifest.Precision);
        var checks = GoldenCheck.Run(model, NpzFile.Read(model.Package.GoldenPath!));
        GoldenCheckLog.Write(output, checks);

        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Measured} (bound {c.Tolerance})"));
        Assert.Contains(FormattableString.Invariant($"{GoldenCheck.HalfRelativeL2Tolerance:G3}"), checks.Single(c => c.Name == "logits").Tolerance, StringComparison.Ordinal);
    }

    /// <summary>
    /// Kernel runs by operator type in the profile ONNX Runtime wrote for one graph: every event
    /// of category "Node" named "*_kernel_time" is one kernel run, its operator in args.op_name.
    /// </summary>
    private static Dictionary<string, int> KernelRuns(string prefix, string role)
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(prefix)!, $"{Path.GetFileName(prefix)}-{role}_*.json");
        var file = Assert.Single(files);
        using var document = JsonDocument.Parse(File.ReadAllBytes(file));
        var runs = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node"
                && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            {
                var op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                runs[op] = runs.GetValueOrDefault(op) + 1;
            }
        }

        Assert.NotEmpty(runs);
        return runs;
    }

    private static string Describe(string role, Dictionary<string, int> runs) =>
        $"{role} kernels: {string.Join(", ", runs.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} x{r.Value}"))}";
}

using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>Writes ONNX Runtime profiles of one batch through each graph (files PREFIX-ROLE_*.json).</summary>
internal static class GraphProfile
{
    public static int Run(string package, int batch, string prefix)
    {
        using var model = MageModel.Load(new MageModelOptions { PackagePath = package, Device = "cpu", VerifyHashes = false, ProfilePrefix = prefix });
        var pixels = new float[batch * 3 * 256 * 256];
        var tokens = new long[batch * 256];
        var ids = new long[batch * 257];
        model.Tokenize(pixels, batch, tokens);
        for (var r = 0; r < batch; r++)
        {
            ids[r * 257] = 1100;
            for (var p = 1; p < 257; p++)
            {
                ids[(r * 257) + p] = p % 2 == 0 ? 2024 : tokens[(r * 256) + p - 1];
            }
        }

        model.Features(tokens, batch, FeaturePooling.Linprobe, new float[batch * model.FeatureDim]);
        model.Logits(ids, batch, new float[batch * 256 * 1024]);
        model.Detokenize(tokens, batch, new float[pixels.Length]);
        return 0;
    }
}

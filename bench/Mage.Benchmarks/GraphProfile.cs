using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>
/// Writes ONNX Runtime profiles of <c>runs</c> batches through each graph (files PREFIX-ROLE_*.json),
/// for bench/profile_summary.py. On CUDA the first run of a shape includes cuDNN's algorithm search:
/// profile two runs and summarise with <c>--skip-first</c>, without the engine's warm-up
/// (<c>--no-warm-up</c>), whose runs at every bucket size would be in the profile too.
/// </summary>
internal static class GraphProfile
{
    public static int Run(string package, int batch, string prefix, string device, int runs, EngineFlags settings)
    {
        using var model = MageModel.Load(settings.Apply(new MageModelOptions { PackagePath = package, Device = device, VerifyHashes = false, ProfilePrefix = prefix }));
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

        var features = new float[batch * model.FeatureDim];
        var logits = new float[batch * 256 * 1024];
        var decoded = new float[pixels.Length];
        for (var run = 0; run < runs; run++)
        {
            if (run > 0)
            {
                model.Tokenize(pixels, batch, tokens);
            }

            model.Features(tokens, batch, FeaturePooling.Linprobe, features);
            model.Logits(ids, batch, logits);
            model.Detokenize(tokens, batch, decoded);
        }

        return 0;
    }
}

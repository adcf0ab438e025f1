using System.Text.Json;
using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>Seconds per image of each graph at one batch size (after a warm-up), for finding where time goes.</summary>
internal static class GraphTimes
{
    public static int Run(string package, int batch, int threads)
    {
        using var model = MageModel.Load(new MageModelOptions { PackagePath = package, Device = "cpu", IntraOpThreads = threads, VerifyHashes = false });
        var random = new Random(0);
        var pixels = new float[batch * 3 * 256 * 256];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = random.NextSingle();
        }

        var tokens = new long[batch * 256];
        var features = new float[batch * model.FeatureDim];
        var ids = new long[batch * 257];
        var logits = new float[batch * 256 * 1024];
        var decoded = new float[pixels.Length];
        model.Tokenize(pixels, batch, tokens);
        for (var r = 0; r < batch; r++)
        {
            ids[r * 257] = 1100;
            for (var p = 1; p < 257; p++)
            {
                ids[(r * 257) + p] = p % 2 == 0 ? 2024 : tokens[(r * 256) + p - 1];
            }
        }

        double Time(Action action)
        {
            action();
            var timer = System.Diagnostics.Stopwatch.StartNew();
            action();
            return Math.Round(timer.Elapsed.TotalSeconds / batch, 3);
        }

        var result = new Dictionary<string, double>
        {
            ["tokenize"] = Time(() => model.Tokenize(pixels, batch, tokens)),
            ["features"] = Time(() => model.Features(tokens, batch, FeaturePooling.Linprobe, features)),
            ["logits"] = Time(() => model.Logits(ids, batch, logits)),
            ["detokenize"] = Time(() => model.Detokenize(tokens, batch, decoded)),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }
}

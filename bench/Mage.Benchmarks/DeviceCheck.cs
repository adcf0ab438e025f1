using System.Diagnostics;
using System.Text.Json;
using Mage.Inference;
using Mage.Inference.Decoding;
using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>
/// Correctness of a device (bench/gpu/run.sh): the package's golden checks, then how often the
/// schedule on the device (sampler graph) gives the host decoder's ids, and whether a row's ids
/// depend on its batch. Prints one JSON object.
/// </summary>
internal static class DeviceCheck
{
    public static async Task<int> RunAsync(string package, string device, int rows, int fixedBatch, EngineFlags settings)
    {
        var modelOptions = settings.Apply(new MageModelOptions { PackagePath = package, Device = device, VerifyHashes = false, FixedTransformerBatch = fixedBatch });
        using var model = MageModel.Load(modelOptions);
        var result = new Dictionary<string, object>
        {
            ["device"] = model.Device.Description,
            ["fixed_transformer_batch"] = model.FixedRows,
            ["precision"] = model.Package.Manifest.Precision,
            ["golden"] = GoldenCheck.Run(model, NpzFile.Read(model.Package.GoldenPath!))
                .Select(c => new Dictionary<string, object> { ["check"] = c.Name, ["measured"] = c.Measured, ["tolerance"] = c.Tolerance, ["passed"] = c.Passed })
                .ToList(),
        };

        foreach (var deterministic in new[] { false, true })
        {
            var options = new DecodeOptions(20, 6.0, deterministic);
            var batch = Enumerable.Range(0, rows)
                .Select(i => new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, MageTokens.Count).ToArray(), Seed: 0, ImageIndex: i))
                .ToArray();
            var timer = Stopwatch.StartNew();
            var host = await model.DecodeOnHostAsync(batch, options);
            var hostSeconds = timer.Elapsed.TotalSeconds;
            timer.Restart();
            var onDevice = model.Decode(batch, options);
            var deviceSeconds = timer.Elapsed.TotalSeconds;
            var probes = Math.Min(4, rows);
            var aloneHost = new long[probes][];
            var aloneDevice = new long[probes][];
            for (var i = 0; i < probes; i++)
            {
                aloneHost[i] = (await model.DecodeOnHostAsync([batch[i]], options))[0];
                aloneDevice[i] = model.Decode([batch[i]], options)[0];
            }

            result[deterministic ? "argmax" : "sampled"] = new Dictionary<string, object>
            {
                ["rows"] = rows,
                ["steps"] = 20,
                ["device_equals_host"] = Agreement(onDevice, host),
                ["host_alone_equals_in_batch"] = Agreement(aloneHost, host[..probes]),
                ["device_alone_equals_in_batch"] = Agreement(aloneDevice, onDevice[..probes]),
                ["host_loop_s"] = hostSeconds,
                ["device_loop_s"] = deviceSeconds,
            };
        }

        EngineFlags.Describe(result, model, modelOptions);
        result["placement"] = Placement(package, device, settings);
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>
    /// Which provider ran each node of the encoder, decoder and sampler during a short decode,
    /// read from ONNX Runtime's profile: nodes per provider, and the op types of nodes that did
    /// not run on the first provider of the session.
    /// </summary>
    private static Dictionary<string, object> Placement(string package, string device, EngineFlags settings)
    {
        var folder = Directory.CreateTempSubdirectory("mage-placement-");
        try
        {
            var prefix = Path.Combine(folder.FullName, "profile");
            using (var model = MageModel.Load(settings.Apply(new MageModelOptions { PackagePath = package, Device = device, VerifyHashes = false, ProfilePrefix = prefix })))
            {
                var rows = Enumerable.Range(0, 2)
                    .Select(i => new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, MageTokens.Count).ToArray(), 0, i))
                    .ToArray();
                model.Decode(rows, new DecodeOptions(2, 6.0, false));
            }

            var placement = new Dictionary<string, object>();
            foreach (var role in new[] { "encoder", "decoder", "sampler" })
            {
                var perProvider = new Dictionary<string, SortedSet<string>>();
                var counts = new Dictionary<string, int>();
                foreach (var file in Directory.GetFiles(folder.FullName, $"profile-{role}*.json"))
                {
                    using var json = JsonDocument.Parse(File.ReadAllText(file));
                    foreach (var e in json.RootElement.EnumerateArray())
                    {
                        if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("args", out var a)
                            || !a.TryGetProperty("provider", out var provider) || !(e.GetProperty("name").GetString() ?? "").EndsWith("_kernel_time", StringComparison.Ordinal))
                        {
                            continue;
                        }

                        var name = provider.GetString() ?? "?";
                        counts[name] = counts.GetValueOrDefault(name) + 1;
                        (perProvider.TryGetValue(name, out var set) ? set : perProvider[name] = []).Add(a.GetProperty("op_name").GetString() ?? "?");
                    }
                }

                placement[role] = new Dictionary<string, object>
                {
                    ["kernel_runs_per_provider"] = counts,
                    ["cpu_op_types"] = perProvider.GetValueOrDefault("CPUExecutionProvider")?.ToArray() ?? [],
                };
            }

            return placement;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Identical rows and identical ids of two sets of token grids, in words.</summary>
    private static string Agreement(long[][] a, long[][] b)
    {
        var rows = a.Zip(b).Count(x => x.First.AsSpan().SequenceEqual(x.Second));
        var ids = a.Zip(b).Sum(x => x.First.Zip(x.Second).Count(y => y.First == y.Second));
        return $"{rows}/{a.Length} rows, {ids}/{a.Length * MageTokens.Count} ids";
    }
}

using System.Diagnostics;
using System.Text.Json;
using Mage.Inference.Batching;
using Mage.Inference.Decoding;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>
/// The Mage side of the end-to-end comparison with PyTorch (bench/run_cpu.sh, docs/benchmarks.md):
/// (a) features from JPEG bytes, (b) generation, (c) inpainting, each as images per second
/// (features: best of <c>--repeats</c> passes over every JPEG after a warm-up on one batch of them;
/// generation and inpainting: one run after a one-step warm-up). <c>--only</c> picks workloads (a comma list of <see cref="Workloads"/>).
/// Prints one JSON object; bench/gpu/summarize.py reads its <c>workloads</c>.
/// </summary>
internal static class Compare
{
    private static readonly string[] Workloads = ["features", "generation", "inpainting"];

    public static async Task<int> RunAsync(string[] args)
    {
        string? package = null, images = null, profile = null;
        var device = "cpu";
        var only = Workloads.ToHashSet(StringComparer.Ordinal);
        int generationSteps = 20, inpaintingSteps = 12;
        var loop = DecodeLoop.Auto;
        int repeats = 2, batch = 8, threads = 0, count = 8, fixedBatch = 0;
        var spin = MageModelOptions.DefaultAllowSpinning;
        var settings = new EngineFlags();
        for (var i = 0; i < args.Length; i++)
        {
            if (settings.TryParse(args, ref i))
            {
                continue;
            }

            switch (args[i])
            {
                case "--package": package = args[++i]; break;
                case "--images": images = args[++i]; break;
                case "--repeats": repeats = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--profile": profile = args[++i]; break;
                case "--device": device = args[++i]; break;
                case "--only": only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal); break;
                case "--generation-steps": generationSteps = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--inpainting-steps": inpaintingSteps = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--loop": loop = Enum.Parse<DecodeLoop>(args[++i], ignoreCase: true); break;
                case "--count": count = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--fixed-batch": fixedBatch = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--no-spin": spin = false; break;
                default: await Console.Error.WriteLineAsync($"unknown argument {args[i]}"); return 2;
            }
        }

        if (package is null || images is null || !only.IsSubsetOf(Workloads))
        {
            await Console.Error.WriteLineAsync($"usage: compare --package DIR --images DIR [--only {string.Join(',', Workloads)}] [--device cpu|cuda] [--precision exact|pytorch|fast] [--conv-search exhaustive|heuristic|default] [--buckets auto|none|N,N,...] [--warm-up|--no-warm-up] [--loop auto|host|device] [--count N] [--generation-steps 20] [--inpainting-steps 12] [--fixed-batch N] [--repeats N] [--batch N] [--threads N] [--no-spin] [--profile PREFIX]");
            return 2;
        }

        var modelOptions = settings.Apply(new MageModelOptions { PackagePath = package, Device = device, IntraOpThreads = threads, ProfilePrefix = profile, VerifyHashes = false, FixedTransformerBatch = fixedBatch, AllowSpinning = spin });
        var loading = Stopwatch.StartNew();
        using var model = MageModel.Load(modelOptions);
        var loadSeconds = loading.Elapsed.TotalSeconds; // on CUDA it includes the warm-up (cuDNN's search at every bucket size)
        var options = new MageEngineOptions
        {
            Tokenize = new BatcherOptions { Name = "tokenize", MaxBatchSize = batch, MaxWait = TimeSpan.FromMilliseconds(2) },
            Features = new BatcherOptions { Name = "features", MaxBatchSize = batch, MaxWait = TimeSpan.FromMilliseconds(2) },
            Logits = new BatcherOptions { Name = "logits", MaxBatchSize = Math.Max(batch, count), MaxWait = TimeSpan.FromMilliseconds(2) },
            Decode = new BatcherOptions { Name = "decode", MaxBatchSize = Math.Max(batch, count), MaxWait = TimeSpan.FromMilliseconds(2) },
            Loop = loop,
            GenerateChunk = Math.Max(batch, count),
            DetokenizeBatch = batch,
        };
        await using var engine = new MageEngine(model, options);
        var jpegs = Directory.GetFiles(images, "*.jpg").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        var editInputs = Enumerable.Range(0, count).Select(i => jpegs[i % jpegs.Length]).Select(j =>
        {
            using var decoded = engine.LoadImage(j);
            return ImagePreprocessor.Apply(decoded, PreprocessMode.Linprobe);
        }).ToArray();
        PixelBox[] centre = [new PixelBox(64, 64, 128, 128)];

        async Task Features(IEnumerable<byte[]> files) => await Task.WhenAll(files.Select(j => engine.EmbedAsync(j)));

        async Task Generation() => await GenerationSteps(generationSteps);

        async Task GenerationSteps(int steps)
        {
            foreach (var g in await engine.GenerateAsync(new GenerateRequest(count, Seed: 0, Steps: steps, Temperature: 6.0)))
            {
                g.Dispose();
            }
        }

        async Task Editing() => await EditingSteps(inpaintingSteps);

        async Task EditingSteps(int steps)
        {
            var results = await Task.WhenAll(editInputs.Select((img, i) => engine.InpaintAsync(img, centre, 0, new EditOptions(Steps: steps, Temperature: 4.5, Seed: (ulong)i))));
            foreach (var r in results)
            {
                r.Dispose();
            }
        }

        var result = new Dictionary<string, object>
        {
            ["runner"] = "mage",
            ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "",
            ["device"] = model.Device.Description,
            ["decode_loop"] = engine.DecodesOnDevice ? "device" : "host",
            ["fixed_transformer_batch"] = model.FixedRows,
            ["intra_op_threads"] = threads,
            ["allow_spinning"] = spin,
            ["images_per_generation_and_edit"] = count,
            ["precision"] = model.Package.Manifest.Precision,
            ["batch"] = batch,
        };
        EngineFlags.Describe(result, model, modelOptions);
        result["load_s"] = loadSeconds;
        var workloads = new Dictionary<string, object>();
        if (only.Contains("features"))
        {
            // Warm-up: one batch (on CUDA the engine has already run every bucket size at load).
            var (seconds, first) = await Best(() => Features(jpegs), repeats, () => Features(jpegs.Take(batch)));
            result["features_images_per_s"] = jpegs.Length / seconds;
            workloads["features"] = new Dictionary<string, object> { ["images"] = jpegs.Length, ["batch"] = batch, ["repeats"] = repeats, ["images_per_s"] = jpegs.Length / seconds, ["seconds"] = seconds, ["warm_up_s"] = first };
        }

        // Generation and inpainting are long: one timed run after a one-step warm-up, as on the PyTorch side.
        if (only.Contains("generation"))
        {
            var (seconds, first) = await Best(Generation, 1, () => GenerationSteps(1));
            result["generation_images_per_s"] = count / seconds;
            workloads["generation"] = new Dictionary<string, object> { ["images"] = count, ["steps"] = generationSteps, ["images_per_s"] = count / seconds, ["seconds"] = seconds, ["warm_up_s"] = first };
        }

        if (only.Contains("inpainting"))
        {
            var (seconds, first) = await Best(Editing, 1, () => EditingSteps(1));
            result["editing_images_per_s"] = count / seconds;
            workloads["inpainting"] = new Dictionary<string, object> { ["images"] = count, ["steps"] = inpaintingSteps, ["images_per_s"] = count / seconds, ["seconds"] = seconds, ["warm_up_s"] = first };
        }

        result["workloads"] = workloads;
        result["mean_logits_batch"] = engine.Statistics.Logits.MeanBatchSize;
        result["mean_decode_batch"] = engine.DecodeStatistics.MeanBatchSize;
        foreach (var img in editInputs)
        {
            img.Dispose();
        }

        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>Best seconds of <paramref name="repeats"/> runs, and the seconds of the warm-up run before them.</summary>
    private static async Task<(double Best, double First)> Best(Func<Task> action, int repeats, Func<Task>? warmup = null)
    {
        var first = Stopwatch.StartNew();
        await (warmup ?? action)();
        var firstSeconds = first.Elapsed.TotalSeconds;
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var timer = Stopwatch.StartNew();
            await action();
            best = Math.Min(best, timer.Elapsed.TotalSeconds);
        }

        return (best, firstSeconds);
    }
}

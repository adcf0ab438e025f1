using BenchmarkDotNet.Attributes;
using Mage.Inference;
using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>
/// Tokenize, features and one generation step (encoder + decoder) on a model package, batch 8.
/// The package defaults to the committed tiny fixture; set MAGE_BENCH_PACKAGE to measure another.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private const int Batch = 8;
    private MageModel model = null!;
    private float[] pixels = [];
    private long[] tokens = [];
    private long[] ids = [];
    private float[] features = [];
    private float[] logits = [];

    [GlobalSetup]
    public void Setup()
    {
        var package = Environment.GetEnvironmentVariable("MAGE_BENCH_PACKAGE")
            ?? Path.Combine(RepositoryRoot(), "tests", "fixtures", "mage-tiny");
        model = MageModel.Load(new MageModelOptions { PackagePath = package, Device = "cpu" });
        var random = new Random(0);
        pixels = new float[Batch * 3 * MageTokens.ImageSize * MageTokens.ImageSize];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = random.NextSingle();
        }

        tokens = new long[Batch * MageTokens.Count];
        model.Tokenize(pixels, Batch, tokens);
        ids = new long[Batch * MageTokens.SequenceLength];
        for (var r = 0; r < Batch; r++)
        {
            ids[r * MageTokens.SequenceLength] = MageTokens.FakeClassId;
            for (var p = 1; p < MageTokens.SequenceLength; p++)
            {
                ids[(r * MageTokens.SequenceLength) + p] = p % 2 == 0 ? MageTokens.MaskId : tokens[(r * MageTokens.Count) + p - 1];
            }
        }

        features = new float[Batch * model.FeatureDim];
        logits = new float[Batch * MageTokens.Count * MageTokens.CodebookSize];
    }

    [GlobalCleanup]
    public void Cleanup() => model.Dispose();

    [Benchmark]
    public void Tokenize() => model.Tokenize(pixels, Batch, tokens);

    [Benchmark]
    public void LinprobeFeatures() => model.Features(tokens, Batch, FeaturePooling.Linprobe, features);

    [Benchmark]
    public void GenerationStepLogits() => model.Logits(ids, Batch, logits);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mage.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmarks from inside the repository, or set MAGE_BENCH_PACKAGE.");
    }
}

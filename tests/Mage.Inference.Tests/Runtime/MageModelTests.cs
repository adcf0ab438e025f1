using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using Microsoft.Extensions.Logging;

namespace Mage.Inference.Tests.Runtime;

public sealed class MageModelTests
{
    [Fact]
    public void Cuda_requested_without_a_cuda_build_falls_back_to_the_cpu_and_says_so()
    {
        var log = new ListLogger();
        using var model = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cuda:0" }, log);
        Assert.False(model.Device.IsCuda);
        Assert.StartsWith("CPU", model.Device.Description, StringComparison.Ordinal);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("falling back to the CPU", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("on CPU", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("random weights", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Unknown_devices_are_rejected(string device)
    {
        var e = Assert.Throws<InvalidRequestException>(() => MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = device }));
        Assert.Contains("auto, cpu, cuda, cuda:N", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_onnx_runtime_cannot_parse_is_a_package_error_naming_the_graph()
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        File.WriteAllText(Path.Combine(copy.Path, "decoder.onnx"), "not a graph");
        var e = Assert.Throws<ModelPackageException>(() => MageModel.Load(new MageModelOptions { PackagePath = copy.Path, Device = "cpu", VerifyHashes = false }));
        Assert.Contains("'decoder'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_tokens_are_rejected_before_reaching_the_graph()
    {
        using var model = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu" });
        var tokens = new long[256];
        tokens[17] = 2024;
        var e = Assert.Throws<InvalidRequestException>(() => model.Detokenize(tokens, 1, new float[3 * 256 * 256]));
        Assert.Contains("position 17", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancelled_token_stops_the_run()
    {
        using var model = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu" });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => model.Tokenize(new float[3 * 256 * 256], 1, new long[256], cts.Token));
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}

using System.CommandLine;
using Mage.Cli.Console;
using Mage.Inference.Batching;
using Mage.Inference.Decoding;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Cli;

/// <summary>
/// The model and engine of one command run. Owns both; disposing drains the engine, then
/// releases the ONNX Runtime sessions.
/// </summary>
internal sealed class LocalModel : IAsyncDisposable
{
    /// <summary>Where the bundled tiny package is copied by the build, next to the executable.</summary>
    public static string BundledPackage => Path.Combine(AppContext.BaseDirectory, "models", "mage-tiny");

    public const string BundledNotice =
        "mage: note: no --model given, so the bundled tiny package with random weights is used; its outputs are not meaningful. " +
        "Export real weights with `/usr/bin/python3 tools/export/export.py --checkpoint mage-vitb.pth --arch vit-base --out models/mage-vit-base` and pass --model models/mage-vit-base.";

    private LocalModel(MageModel model, MageEngine engine)
    {
        Model = model;
        Engine = engine;
    }

    public MageModel Model { get; }

    public MageEngine Engine { get; }

    /// <summary>
    /// Resolves the package folder: <paramref name="model"/>, or the bundled package with a notice
    /// on stderr.
    /// </summary>
    public static string ResolvePackage(string? model, CliContext context)
    {
        if (!string.IsNullOrWhiteSpace(model))
        {
            return model;
        }

        context.Error.WriteLine(BundledNotice);
        return BundledPackage;
    }

    /// <summary>
    /// Loads the package of <c>--model</c> (checking its hashes) on the requested device, in the
    /// requested precision mode, and starts an engine over it that decodes images under
    /// <paramref name="limits"/> (default <see cref="ImageLimits.Default"/>).
    /// </summary>
    /// <exception cref="Inference.Packages.ModelPackageException">The package is missing or invalid.</exception>
    public static LocalModel Load(ParseResult parse, CommonOptions common, int batchSize, CliContext context, ImageLimits? limits = null)
    {
        var model = parse.GetValue(common.Model);
        var folder = ResolvePackage(model, context);
        return Load(common.ModelOptions(parse, folder), DecodeLoop.Auto, batchSize, context, string.IsNullOrWhiteSpace(model), limits);
    }

    /// <summary>
    /// Loads the package of <paramref name="modelOptions"/> (checking its hashes) and starts an
    /// engine over it whose decoding schedule runs where <paramref name="loop"/> says, decoding
    /// images under <paramref name="limits"/> (default <see cref="ImageLimits.Default"/>). The
    /// caller has said which package it is (<see cref="ResolvePackage"/> or the worker's settings).
    /// </summary>
    /// <exception cref="Inference.Packages.ModelPackageException">The package is missing or invalid.</exception>
    /// <param name="modelOptions">The package and how to run it.</param>
    /// <param name="loop">Where the decoding schedule runs.</param>
    /// <param name="batchSize">The engine's batch size.</param>
    /// <param name="context">Where warnings go.</param>
    /// <param name="bundledNoticeShown">True when the caller printed <see cref="BundledNotice"/>: the library's own warning about random weights would repeat it.</param>
    /// <param name="limits">The image limits.</param>
    public static LocalModel Load(MageModelOptions modelOptions, DecodeLoop loop, int batchSize, CliContext context, bool bundledNoticeShown, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(modelOptions);

        var logger = new StderrLogger(context.Error, bundledNoticeShown ? m => m.Contains("random weights", StringComparison.Ordinal) : null);
        var loaded = MageModel.Load(modelOptions, logger);
        var options = new MageEngineOptions
        {
            Tokenize = new BatcherOptions { Name = "tokenize", MaxBatchSize = batchSize },
            Features = new BatcherOptions { Name = "features", MaxBatchSize = batchSize },
            Logits = new BatcherOptions { Name = "logits", MaxBatchSize = batchSize },
            Decode = new BatcherOptions { Name = "decode", MaxBatchSize = batchSize, MaxConcurrentBatches = 2 },
            DetokenizeBatch = batchSize,
            Limits = limits ?? ImageLimits.Default,
            Loop = loop,
        };
        return new LocalModel(loaded, new MageEngine(loaded, options, logger));
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        Model.Dispose();
    }
}

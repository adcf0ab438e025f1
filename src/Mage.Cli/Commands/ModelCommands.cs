using System.CommandLine;
using System.Globalization;
using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using Spectre.Console;

namespace Mage.Cli.Commands;

/// <summary><c>mage model info</c> and <c>mage model verify</c>: what a package holds, and whether it still computes what the exporter saw.</summary>
internal static class ModelCommands
{
    /// <summary>Share of token ids that must equal the exporter's (ids may differ where two codes are equally near).</summary>
    public const double TokenMatchTolerance = 0.99;

    /// <summary>Largest relative L2 error of features and logits, ||ours - golden|| / ||golden||.</summary>
    public const double RelativeL2Tolerance = 1e-4;

    /// <summary>Largest absolute error of a decoded pixel, on the [0, 1] scale.</summary>
    public const double PixelTolerance = 1e-4;

    public static Command Create(CliContext context, CommonOptions common)
    {
        var model = new Command("model", "Inspect and check model packages.");
        model.Subcommands.Add(Info(context, common));
        model.Subcommands.Add(Verify(context, common));
        return model;
    }

    private static Argument<string?> PackageArgument() => new("package")
    {
        Description = "The model package folder. Default: --model, else the bundled tiny package.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static string ResolvePackage(ParseResult parse, Argument<string?> package, CommonOptions common, CliContext context)
    {
        var fromArgument = parse.GetValue(package);
        var fromOption = parse.GetValue(common.Model);
        if (fromArgument is not null && fromOption is not null && Path.GetFullPath(fromArgument) != Path.GetFullPath(fromOption))
        {
            throw new UsageException($"Two different packages given: '{fromArgument}' and --model '{fromOption}'; give one.");
        }

        return ModelHost.ResolvePackage(fromArgument ?? fromOption, context);
    }

    private static Command Info(CliContext context, CommonOptions common)
    {
        var package = PackageArgument();
        var command = new Command("info", "Show a package's architecture, precision, feature size, source and files.") { package };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, () =>
        {
            var loaded = ModelPackage.Load(ResolvePackage(parse, package, common, context), verifyHashes: false);
            var m = loaded.Manifest;
            var console = Console.CliTables.For(context);
            var summary = new Table().HideHeaders().AddColumns("Field", "Value");
            summary.AddRow("package", Markup.Escape(loaded.Folder));
            summary.AddRow("arch", Markup.Escape(m.Arch));
            summary.AddRow("precision", Markup.Escape(m.Precision));
            summary.AddRow("feature dim", m.FeatureDim.ToString(CultureInfo.InvariantCulture));
            summary.AddRow("opset", m.Opset.ToString(CultureInfo.InvariantCulture));
            summary.AddRow("source", Markup.Escape(DescribeSource(m.Source)));
            summary.AddRow("content hash", loaded.ContentHash);
            console.Write(summary);

            var files = new Table().AddColumn("File").AddColumn(new TableColumn("Bytes").RightAligned()).AddColumn("SHA-256");
            foreach (var (name, entry) in m.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                files.AddRow(Markup.Escape(name), entry.Bytes.ToString("N0", CultureInfo.InvariantCulture), entry.Sha256);
            }

            console.Write(files);
            return Task.FromResult(ExitCodes.Success);
        }, cancellationToken));
        return command;
    }

    private static Command Verify(CliContext context, CommonOptions common)
    {
        var package = PackageArgument();
        var command = new Command("verify", "Check every file's size and SHA-256, then run golden.npz through ONNX Runtime and compare with the exporter's PyTorch outputs.") { package };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var folder = ResolvePackage(parse, package, common, context);
            ModelPackage checkedPackage;
            try
            {
                checkedPackage = ModelPackage.Load(folder, verifyHashes: true);
            }
            catch (ModelPackageException e)
            {
                context.WriteError($"verification failed: {e.Message}");
                return ExitCodes.Failure;
            }

            context.Out.WriteLine($"Files: all {checkedPackage.Manifest.Files.Count} match their manifest sizes and SHA-256 hashes.");
            if (checkedPackage.GoldenPath is null)
            {
                context.Out.WriteLine("No golden.npz in the package: only the hashes were checked.");
                return ExitCodes.Success;
            }

            var logger = new Console.StderrLogger(context.Error, m => m.Contains("random weights", StringComparison.Ordinal));
            using var model = MageModel.Load(new MageModelOptions { PackagePath = folder, Device = parse.GetValue(common.Device)!, VerifyHashes = false }, logger);
            var checks = await Task.Run(() => RunGolden(model, NpzFile.Read(checkedPackage.GoldenPath), cancellationToken), cancellationToken);

            var console = Console.CliTables.For(context);
            var table = new Table().AddColumns("Check", "Measured", "Tolerance", "Result");
            foreach (var c in checks)
            {
                table.AddRow(c.Name, c.Measured, c.Tolerance, c.Passed ? "pass" : "FAIL");
            }

            console.Write(table);
            var failed = checks.Where(c => !c.Passed).Select(c => c.Name).ToList();
            if (failed.Count > 0)
            {
                context.WriteError($"verification failed on {model.Device.Description}: {string.Join(", ", failed)} outside tolerance.");
                return ExitCodes.Failure;
            }

            context.Out.WriteLine($"Verified on {model.Device.Description}.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private sealed record Check(string Name, string Measured, string Tolerance, bool Passed);

    private static List<Check> RunGolden(MageModel model, IReadOnlyDictionary<string, NpyArray> golden, CancellationToken cancellationToken)
    {
        NpyArray Need(string key) => golden.TryGetValue(key, out var a)
            ? a
            : throw new InvalidDataException($"golden.npz has no '{key}' array; it has {string.Join(", ", golden.Keys)}.");

        var expectedTokens = Need("tokens").ToInt64Array();
        var batch = Need("tokens").Shape[0];
        const int side = Inference.MageTokens.ImageSize;
        var checks = new List<Check>();

        // golden "images" are uint8 [N, 256, 256, 3]; the tokenizer takes [N, 3, 256, 256] in [0, 1].
        var images = Need("images").AsUInt8();
        var pixels = new float[batch * 3 * side * side];
        for (var b = 0; b < batch; b++)
        {
            for (var p = 0; p < side * side; p++)
            {
                for (var c = 0; c < 3; c++)
                {
                    pixels[(b * 3 * side * side) + (c * side * side) + p] = images[(b * side * side * 3) + (p * 3) + c] / 255f;
                }
            }
        }

        var tokens = new long[batch * Inference.MageTokens.Count];
        model.Tokenize(pixels, batch, tokens, cancellationToken);
        var same = tokens.Zip(expectedTokens).Count(x => x.First == x.Second);
        var rate = (double)same / tokens.Length;
        checks.Add(new Check("tokens", $"{same}/{tokens.Length} identical ({rate:P2})", $">= {TokenMatchTolerance:P0}", rate >= TokenMatchTolerance));

        foreach (var (pooling, key) in new[] { (FeaturePooling.Linprobe, "linprobe"), (FeaturePooling.Cls, "cls"), (FeaturePooling.Mean, "mean") })
        {
            var features = new float[batch * model.FeatureDim];
            model.Features(expectedTokens, batch, pooling, features, cancellationToken);
            checks.Add(RelativeL2Check($"features ({key})", features, Need(key).AsFloat32()));
        }

        var ids = Need("decoder_ids");
        var logits = new float[ids.Shape[0] * Inference.MageTokens.Count * Inference.MageTokens.CodebookSize];
        model.Logits(ids.ToInt64Array(), ids.Shape[0], logits, cancellationToken);
        checks.Add(RelativeL2Check("logits", logits, Need("logits").AsFloat32()));

        var decoded = new float[batch * 3 * side * side];
        model.Detokenize(expectedTokens, batch, decoded, cancellationToken);
        var maxAbs = MaxAbs(decoded, Need("decoded").AsFloat32());
        checks.Add(new Check("decoded pixels", $"max abs {maxAbs:E2}", $"<= {PixelTolerance:E0}", maxAbs <= PixelTolerance));
        return checks;
    }

    private static Check RelativeL2Check(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var error = RelativeL2(actual, expected);
        return new Check(name, $"rel L2 {error:E2}", $"<= {RelativeL2Tolerance:E0}", error <= RelativeL2Tolerance);
    }

    /// <summary>||a - b|| / ||b||; infinite when the lengths differ, so a shape mismatch fails.</summary>
    internal static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double diff = 0, norm = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    internal static double MaxAbs(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = Math.Abs((double)actual[i] - expected[i]);
            max = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(max, d);
        }

        return max;
    }

    private static string DescribeSource(PackageSource source)
    {
        var parts = new List<string> { source.Kind };
        if (source.Name is not null)
        {
            parts.Add(source.Name);
        }

        if (source.Seed is { } seed)
        {
            parts.Add($"seed {seed}");
        }

        if (source.Sha256 is not null)
        {
            parts.Add($"sha256 {source.Sha256}");
        }

        return string.Join(", ", parts) + (source.IsRandom ? " (random weights: outputs are not meaningful)" : "");
    }
}

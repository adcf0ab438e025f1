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

        return LocalModel.ResolvePackage(fromArgument ?? fromOption, context);
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
            if (checkedPackage.Manifest.Precision == ModelPackage.Int8)
            {
                var kept = checkedPackage.Manifest.FloatConvolutions;
                context.Out.WriteLine(kept.Count == 0
                    ? "Int8: no VQGAN convolution is listed as kept in float32."
                    : $"Int8: {kept.Count} VQGAN convolutions kept in float32: {string.Join(", ", kept)}.");
            }

            if (checkedPackage.GoldenPath is null)
            {
                context.Out.WriteLine("No golden.npz in the package: only the hashes were checked.");
                return ExitCodes.Success;
            }

            var logger = new Console.StderrLogger(context.Error, m => m.Contains("random weights", StringComparison.Ordinal));
            var modelOptions = common.ModelOptions(parse, folder);
            modelOptions.VerifyHashes = false; // checked just above
            using var model = MageModel.Load(modelOptions, logger);
            var checks = await Task.Run(() => GoldenCheck.Run(model, NpzFile.Read(checkedPackage.GoldenPath), cancellationToken), cancellationToken);

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

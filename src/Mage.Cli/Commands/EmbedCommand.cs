using System.CommandLine;
using Mage.Cli.Output;
using Mage.Inference;
using Mage.Inference.Engine;

namespace Mage.Cli.Commands;

/// <summary><c>mage embed</c>: images to float32 [N, D] features, as .npy (+ index file) or Parquet (name, embedding).</summary>
internal static class EmbedCommand
{
    public static Command Create(CliContext context, CommonOptions common)
    {
        var inputs = new Argument<string[]>("images") { Description = "Image files and folders (folders are searched recursively for png, jpg, jpeg, webp, bmp, gif).", Arity = ArgumentArity.OneOrMore };
        var pooling = CommonOptions.Choice("--pooling", "Which feature: linprobe (the linear-probe representation), cls or mean.", MageDefaults.Pooling);
        var normalize = new Option<bool>("--normalize") { Description = "Scale each embedding to unit L2 norm." };
        var preprocess = CommonOptions.Preprocess(MageDefaults.EmbedPreprocess);
        var output = CommonOptions.Out("embeddings.npy (float32 [N, D], row order in <name>.index.txt) or embeddings.parquet (columns name, embedding).", "FILE.npy|FILE.parquet");
        var command = new Command("embed", "Turn images into MAGE feature vectors.") { inputs, pooling, normalize, preprocess, output };
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var outPath = parse.GetValue(output)!;
            var parquet = outPath.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);
            if (!parquet && !outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new UsageException($"--out '{outPath}' must end in .npy or .parquet; the extension picks the format.");
            }

            var options = new EmbedOptions(parse.GetValue(pooling), parse.GetValue(normalize), parse.GetValue(preprocess));
            var failures = new InputFailures();
            var files = InputFiles.Expand(parse.GetValue(inputs)!, failures);
            var argumentFailures = failures.Count;
            if (files.Count == 0)
            {
                failures.Report(context, argumentFailures);
                return ExitCodes.Failure;
            }

            var batchSize = parse.GetValue(common.BatchSize);
            await using var host = LocalModel.Load(parse, common, batchSize, context, common.ImageLimits(parse));
            var results = await ImageBatch.RunAsync(context, files, failures, host.Engine.Options.Limits.MaxBytes, batchSize, "Embedding",
                (file, bytes, ct) => host.Engine.EmbedAsync(bytes, options, file.Name, ct), cancellationToken);

            var rows = files.Zip(results).Where(x => x.Second is not null).ToList();
            if (rows.Count > 0)
            {
                var names = rows.Select(r => r.First.Name).ToList();
                var features = rows.Select(r => r.Second!.Features).ToList();
                if (parquet)
                {
                    var metadata = new Dictionary<string, string>
                    {
                        ["mage.model"] = host.Model.Package.Folder,
                        ["mage.model_hash"] = host.Model.Package.ContentHash,
                        ["mage.pooling"] = WireNames.Of(options.Pooling),
                        ["mage.normalize"] = options.Normalize ? "true" : "false",
                        ["mage.preprocess"] = WireNames.Of(options.Preprocess),
                    };
                    await EmbeddingsFile.WriteAsync(outPath, names, features, metadata, cancellationToken);
                    context.Out.WriteLine($"Wrote {rows.Count} embeddings of {host.Model.FeatureDim} floats to {outPath}.");
                }
                else
                {
                    ArrayFiles.WriteFloatRows(outPath, features, host.Model.FeatureDim);
                    var index = ArrayFiles.IndexPathFor(outPath);
                    ArrayFiles.WriteIndex(index, names);
                    context.Out.WriteLine($"Wrote {rows.Count} embeddings of {host.Model.FeatureDim} floats to {outPath} (row order: {index}).");
                }
            }

            failures.Report(context, files.Count + argumentFailures);
            return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }, cancellationToken));
        return command;
    }
}

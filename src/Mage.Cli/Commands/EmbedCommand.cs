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
        var inputs = PerImageCommand.Images();
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
            return await PerImageCommand.RunAsync(context, parse, common, inputs, "Embedding",
                (engine, file, bytes, ct) => engine.EmbedAsync(bytes, options, file.Name, ct),
                async (host, rows) =>
                {
                    var names = rows.Select(r => r.File.Name).ToList();
                    var features = rows.Select(r => r.Result.Features).ToList();
                    var what = $"{rows.Count} embeddings of {host.Model.FeatureDim} floats";
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
                        context.Out.WriteLine($"Wrote {what} to {outPath}.");
                    }
                    else
                    {
                        PerImageCommand.WriteArrayAndIndex(context, outPath, names, path => ArrayFiles.WriteFloatRows(path, features, host.Model.FeatureDim), what);
                    }
                },
                cancellationToken);
        }, cancellationToken));
        return command;
    }
}

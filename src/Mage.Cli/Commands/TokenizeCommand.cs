using System.CommandLine;
using Mage.Cli.Output;
using Mage.Inference;

namespace Mage.Cli.Commands;

/// <summary><c>mage tokenize</c>: images to int64 [N, 256] token ids, with the row order in an index file.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliContext context, CommonOptions common)
    {
        var inputs = new Argument<string[]>("images") { Description = "Image files and folders (folders are searched recursively for png, jpg, jpeg, webp, bmp, gif).", Arity = ArgumentArity.OneOrMore };
        var preprocess = CommonOptions.Preprocess(MageDefaults.EditPreprocess);
        var output = CommonOptions.Out("Where to write the int64 [N, 256] .npy; the row order goes to <name>.index.txt next to it.", "tokens.npy");
        var command = new Command("tokenize", "Turn images into MAGE token ids (16x16 codebook ids each).") { inputs, preprocess, output };
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var mode = parse.GetValue(preprocess);
            var outPath = parse.GetValue(output)!;
            var failures = new InputFailures();
            var files = InputFiles.Expand(parse.GetValue(inputs)!, failures);
            var argumentFailures = failures.Count;
            if (files.Count == 0)
            {
                failures.Report(context, parse.GetValue(inputs)!.Length);
                return ExitCodes.Failure;
            }

            var batchSize = parse.GetValue(common.BatchSize);
            await using var host = LocalModel.Load(parse, common, batchSize, context, common.ImageLimits(parse));
            var results = await ImageBatch.RunAsync(context, files, failures, host.Engine.Options.Limits.MaxBytes, batchSize, "Tokenizing",
                (file, bytes, ct) => host.Engine.TokenizeAsync(bytes, mode, file.Name, ct), cancellationToken);

            var rows = files.Zip(results).Where(x => x.Second is not null).ToList();
            if (rows.Count > 0)
            {
                ArrayFiles.WriteTokens(outPath, [.. rows.Select(r => r.Second!)]);
                var index = ArrayFiles.IndexPathFor(outPath);
                ArrayFiles.WriteIndex(index, rows.Select(r => r.First.Name));
                context.Out.WriteLine($"Wrote {rows.Count} token rows to {outPath} (row order: {index}).");
            }

            failures.Report(context, files.Count + argumentFailures);
            return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }, cancellationToken));
        return command;
    }
}

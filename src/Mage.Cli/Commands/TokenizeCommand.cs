using System.CommandLine;
using Mage.Cli.Output;
using Mage.Inference;

namespace Mage.Cli.Commands;

/// <summary><c>mage tokenize</c>: images to int64 [N, 256] token ids, with the row order in an index file.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliContext context, CommonOptions common)
    {
        var inputs = PerImageCommand.Images();
        var preprocess = CommonOptions.Preprocess(MageDefaults.EditPreprocess);
        var output = CommonOptions.Out("Where to write the int64 [N, 256] .npy; the row order goes to <name>.index.txt next to it.", "tokens.npy");
        var command = new Command("tokenize", "Turn images into MAGE token ids (16x16 codebook ids each).") { inputs, preprocess, output };
        common.AddTo(command);
        common.AddImageOptionsTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, () =>
        {
            var mode = parse.GetValue(preprocess);
            var outPath = parse.GetValue(output)!;
            return PerImageCommand.RunAsync(context, parse, common, inputs, "Tokenizing",
                (engine, file, bytes, ct) => engine.TokenizeAsync(bytes, mode, file.Name, ct),
                (_, rows) =>
                {
                    PerImageCommand.WriteArrayAndIndex(context, outPath, rows.Select(r => r.File.Name),
                        path => ArrayFiles.WriteTokens(path, [.. rows.Select(r => r.Result)]), $"{rows.Count} token rows");
                    return Task.CompletedTask;
                },
                cancellationToken);
        }, cancellationToken));
        return command;
    }
}

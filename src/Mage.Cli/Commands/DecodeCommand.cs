using System.CommandLine;
using System.Globalization;
using Mage.Cli.Output;
using Mage.Inference;

namespace Mage.Cli.Commands;

/// <summary><c>mage decode</c>: int32/int64 [N, 256] token ids to <c>DIR/{row:D5}.png</c>.</summary>
internal static class DecodeCommand
{
    public static Command Create(CliContext context, CommonOptions common)
    {
        var input = new Argument<string>("tokens") { Description = "An int32 or int64 [N, 256] .npy of codebook ids (as written by tokenize, generate or --tokens-out)." };
        var output = CommonOptions.Out("Folder for the PNGs, named {row:D5}.png.", "DIR");
        var command = new Command("decode", "Turn token ids back into images.") { input, output };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var rows = ArrayFiles.ReadTokens(parse.GetValue(input)!);
            var folder = parse.GetValue(output)!;
            var failures = new InputFailures();
            var valid = new List<int>();
            for (var r = 0; r < rows.Length; r++)
            {
                if (CodebookIds.Problem(rows[r], r, maskAllowed: false) is { } problem)
                {
                    failures.Add(r, $"row {r}", problem);
                }
                else
                {
                    valid.Add(r);
                }
            }

            var batchSize = parse.GetValue(common.BatchSize);
            await using var host = LocalModel.Load(parse, common, batchSize, context);
            Directory.CreateDirectory(folder);
            await context.Progress.RunAsync("Decoding", valid.Count, async progress =>
            {
                for (var start = 0; start < valid.Count; start += batchSize)
                {
                    var chunk = valid.GetRange(start, Math.Min(batchSize, valid.Count - start));
                    var images = await host.Engine.DetokenizeAsync([.. chunk.Select(r => rows[r])], cancellationToken);
                    await ImageFiles.WritePngsAsync(images, folder, i => string.Create(CultureInfo.InvariantCulture, $"{chunk[i]:D5}.png"), cancellationToken);

                    progress.Report(start + chunk.Count);
                }

                return true;
            });

            context.Out.WriteLine($"Wrote {valid.Count} image{(valid.Count == 1 ? "" : "s")} to {folder}.");
            failures.Report(context, rows.Length, "row");
            return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }, cancellationToken));
        return command;
    }
}

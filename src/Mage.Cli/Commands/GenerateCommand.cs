using System.CommandLine;
using System.Globalization;
using Mage.Cli.Output;
using Mage.Inference;
using Mage.Inference.Engine;

namespace Mage.Cli.Commands;

/// <summary><c>mage generate</c>: unconditional generation to <c>DIR/{seed}-{index:D5}.png</c>.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext context, CommonOptions common)
    {
        var count = CommonOptions.Positive("--count", $"How many images (1..{MageDefaults.MaxGenerateCount}).", 1, 1, MageDefaults.MaxGenerateCount);

        // Required, so no default: a default would satisfy the requirement.
        count.DefaultValueFactory = null;
        count.Required = true;
        count.HelpName = "N";
        var seed = CommonOptions.Seed(required: true);
        var steps = CommonOptions.Steps(MageDefaults.GenerateSteps);
        var temperature = CommonOptions.Temperature(MageDefaults.GenerateTemperature);
        var deterministic = CommonOptions.Deterministic();
        var output = CommonOptions.Out("Folder for the PNGs, named {seed}-{index:D5}.png.", "DIR");
        var tokensOut = CommonOptions.TokensOut();
        var command = new Command("generate", "Generate images from nothing (image i of a seed is the same whatever --count and --batch-size).")
        {
            count, seed, steps, temperature, deterministic, output, tokensOut,
        };
        common.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var request = new GenerateRequest(parse.GetValue(count), parse.GetValue(seed), parse.GetValue(steps), parse.GetValue(temperature), parse.GetValue(deterministic));
            var folder = parse.GetValue(output)!;
            var batchSize = parse.GetValue(common.BatchSize);
            await using var host = LocalModel.Load(parse, common, batchSize, context);

            var tokens = await context.Progress.RunAsync("Generating", progress =>
                host.Engine.GenerateTokensAsync(request, progress, cancellationToken));

            Directory.CreateDirectory(folder);
            await context.Progress.RunAsync("Decoding", request.Count, async progress =>
            {
                // Decode a batch at a time so memory stays bounded by --batch-size, not --count.
                for (var start = 0; start < tokens.Length; start += batchSize)
                {
                    var chunk = tokens[start..Math.Min(tokens.Length, start + batchSize)];
                    var images = await host.Engine.DetokenizeAsync(chunk, cancellationToken);
                    await ImageFiles.WritePngsAsync(images, folder, i => string.Create(CultureInfo.InvariantCulture, $"{request.Seed}-{request.FirstIndex + start + i:D5}.png"), cancellationToken);

                    progress.Report(start + chunk.Length);
                }

                return true;
            });

            context.Out.WriteLine($"Wrote {request.Count} image{(request.Count == 1 ? "" : "s")} to {folder}.");
            if (parse.GetValue(tokensOut) is { } tokensPath)
            {
                ArrayFiles.WriteTokens(tokensPath, tokens);
                context.Out.WriteLine($"Wrote their tokens to {tokensPath}.");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}

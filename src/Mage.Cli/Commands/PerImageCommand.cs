using System.CommandLine;
using Mage.Cli.Output;
using Mage.Inference.Engine;

namespace Mage.Cli.Commands;

/// <summary>
/// What <c>mage tokenize</c> and <c>mage embed</c> share: the image arguments expanded into files,
/// one engine call per file with progress, the inputs that failed reported at the end, and the
/// exit code; and the array file written with its index file. Each command keeps its own options,
/// engine call and output.
/// </summary>
internal static class PerImageCommand
{
    /// <summary>The <c>images</c> argument: files and folders.</summary>
    public static Argument<string[]> Images() =>
        new("images") { Description = "Image files and folders (folders are searched recursively for png, jpg, jpeg, webp, bmp, gif).", Arity = ArgumentArity.OneOrMore };

    /// <summary>
    /// Runs <paramref name="compute"/> on every image, showing <paramref name="description"/>
    /// ("Embedding") as progress, then hands the files that worked, with their results in input
    /// order, to <paramref name="write"/> (not called when none worked).
    /// </summary>
    /// <returns><see cref="ExitCodes.Success"/> when every input worked, else <see cref="ExitCodes.Failure"/>.</returns>
    public static async Task<int> RunAsync<T>(
        CliContext context,
        ParseResult parse,
        CommonOptions common,
        Argument<string[]> images,
        string description,
        Func<MageEngine, InputFile, byte[], CancellationToken, Task<T>> compute,
        Func<LocalModel, IReadOnlyList<(InputFile File, T Result)>, Task> write,
        CancellationToken cancellationToken)
        where T : class
    {
        var failures = new InputFailures();
        var files = InputFiles.Expand(parse.GetValue(images)!, failures);
        var argumentFailures = failures.Count;
        if (files.Count == 0)
        {
            // Every argument failed, each once: the count is the number of arguments.
            failures.Report(context, argumentFailures);
            return ExitCodes.Failure;
        }

        var batchSize = parse.GetValue(common.BatchSize);
        await using var host = LocalModel.Load(parse, common, batchSize, context, common.ImageLimits(parse));
        var results = await ImageBatch.RunAsync(context, files, failures, host.Engine.Options.Limits.MaxBytes, batchSize, description,
            (file, bytes, ct) => compute(host.Engine, file, bytes, ct), cancellationToken);

        var rows = files.Zip(results).Where(x => x.Second is not null).Select(x => (x.First, x.Second!)).ToList();
        if (rows.Count > 0)
        {
            await write(host, rows);
        }

        failures.Report(context, files.Count + argumentFailures);
        return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// Writes the array with <paramref name="writeArray"/>, the row order to the index file next to
    /// it, and says so: "Wrote <paramref name="what"/> to PATH (row order: INDEX)."
    /// </summary>
    public static void WriteArrayAndIndex(CliContext context, string path, IEnumerable<string> names, Action<string> writeArray, string what)
    {
        writeArray(path);
        var index = ArrayFiles.IndexPathFor(path);
        ArrayFiles.WriteIndex(index, names);
        context.Out.WriteLine($"Wrote {what} to {path} (row order: {index}).");
    }
}

using Mage.Inference;

namespace Mage.Cli.Commands;

/// <summary>
/// Runs one engine call per image file, many at once so the engine's batchers fill, and keeps
/// going past files that fail: each failure is recorded with its reason.
/// </summary>
internal static class ImageBatch
{
    /// <summary>Results in file order; null where the file failed (and was added to <paramref name="failures"/>).</summary>
    public static async Task<T?[]> RunAsync<T>(
        CliContext context,
        IReadOnlyList<InputFile> files,
        InputFailures failures,
        long maxBytes,
        int batchSize,
        string description,
        Func<InputFile, byte[], CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
        where T : class
    {
        var results = new T?[files.Count];
        long done = 0;
        await context.Progress.RunAsync(description, files.Count, async progress =>
        {
            // Twice the batch in flight: one batch decodes while the previous one runs.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, batchSize * 2), CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), parallel, async (i, ct) =>
            {
                var file = files[i];
                try
                {
                    var length = new FileInfo(file.Path).Length;
                    if (length > maxBytes)
                    {
                        throw new InvalidDataException($"the file is {length} bytes; the limit is {maxBytes} bytes.");
                    }

                    var bytes = await File.ReadAllBytesAsync(file.Path, ct);
                    results[i] = await work(file, bytes, ct);
                }
                catch (Exception e) when (e is MageException or IOException or UnauthorizedAccessException)
                {
                    failures.Add(int.MaxValue / 2 + i, file.Name, e.Message);
                }

                progress.Report(Interlocked.Increment(ref done));
            });
            return true;
        });
        return results;
    }
}

using Azure;
using Azure.Storage.Blobs;

namespace Mage.Chaos;

/// <summary>
/// Uploads, overwrites and deletes blobs in the uploads container that the workers list, spread
/// over a time, retrying each operation through storage outages; remembers the last version of
/// every name (<see cref="Final"/>). One run drives it; read the results after <see cref="RunAsync"/>.
/// </summary>
internal sealed class UploadStorm(BlobContainerClient uploads, int operations, int corrupt, TimeSpan spread)
{
    private readonly Dictionary<string, StormBlob> final = new(StringComparer.Ordinal);

    /// <summary>Names that exist at the end, with their last version.</summary>
    public IReadOnlyDictionary<string, StormBlob> Final => final;

    public int Uploads { get; private set; }

    public int Overwrites { get; private set; }

    public int Deletes { get; private set; }

    public int CorruptUploads { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var random = new Random(12);
        var names = Enumerable.Range(0, Math.Max(1, operations * 2 / 3)).Select(i => $"storm/u-{i:D4}.png").ToArray();
        var corruptEvery = corrupt == 0 ? int.MaxValue : Math.Max(1, operations / corrupt);
        var pause = operations == 0 ? TimeSpan.Zero : spread / operations;
        for (var op = 0; op < operations; op++)
        {
            var name = names[random.Next(names.Length)];
            var exists = final.ContainsKey(name);
            var delete = exists && random.NextDouble() < 0.3;
            var bad = !delete && CorruptUploads < corrupt && op % corruptEvery == corruptEvery - 1;
            await RetryAsync(async () =>
            {
                var blob = uploads.GetBlobClient(name);
                if (delete)
                {
                    await blob.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    final.Remove(name);
                    return;
                }

                var bytes = bad ? ChaosImages.Corrupt(CorruptUploads) : ChaosImages.Good(50_000 + op);
                var info = await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true, cancellationToken).ConfigureAwait(false);
                final[name] = new StormBlob(name, info.Value.ETag.ToString(), bad);
            }, cancellationToken).ConfigureAwait(false);

            if (delete)
            {
                Deletes++;
            }
            else
            {
                Uploads++;
                Overwrites += exists ? 1 : 0;
                CorruptUploads += bad ? 1 : 0;
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RetryAsync(Func<Task> operation, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await operation().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException or HttpRequestException)
            {
                // Storage is down (the run's outage): try again until it is back.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

using Mage.Jobs.Outputs;

namespace Mage.Cli.Output;

/// <summary>
/// Writes <c>mage embed</c>'s Parquet file through Mage's one table writer
/// (<see cref="ParquetTable"/>): columns <c>name</c> (string) and <c>embedding</c>
/// (list&lt;float&gt;). Unlike a job's parts (Mage.Jobs' <c>EmbeddingRow</c>) it has no etag or
/// error column: failed files are reported on stderr, not stored.
/// </summary>
internal static class EmbeddingsFile
{
    public static async Task WriteAsync(string path, IReadOnlyList<string> names, IReadOnlyList<float[]> embeddings, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var rows = names.Select((name, i) => new EmbeddingFileRow { Name = name, Embedding = [.. embeddings[i]] });
        ArrayFiles.CreateParent(path);
        await using var stream = File.Create(path);
        await ParquetTable.WriteAsync(stream, rows, metadata, cancellationToken);
    }
}

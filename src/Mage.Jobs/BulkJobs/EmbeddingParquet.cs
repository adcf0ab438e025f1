using Parquet.Serialization;

namespace Mage.Jobs.BulkJobs;

/// <summary>Writes and reads job parts (columns: name string, etag string, embedding list&lt;float&gt;, error string, nullable).</summary>
internal static class EmbeddingParquet
{
    /// <summary>The rows as one Parquet file in memory.</summary>
    public static async Task<byte[]> WriteAsync(IReadOnlyList<EmbeddingRow> rows, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return stream.ToArray();
    }

    /// <summary>Reads a part back.</summary>
    public static async Task<IList<EmbeddingRow>> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var result = await ParquetSerializer.DeserializeAsync<EmbeddingRow>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Data;
    }
}

using System.Text.Json.Serialization;
using Parquet.Serialization;

namespace Mage.Jobs.Services;

/// <summary>One row of a job's Parquet part: a blob and its embedding, or why it has none.</summary>
public sealed class EmbeddingRow
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("etag")]
    public string? Etag { get; set; }

    [JsonPropertyName("embedding")]
    public List<float>? Embedding { get; set; }

    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

/// <summary>Writes and reads job parts (columns: name string, etag string, embedding list&lt;float&gt;, error string, nullable).</summary>
public static class EmbeddingParquet
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

using Parquet.Serialization;

namespace Mage.Jobs.Outputs;

/// <summary>
/// The one Parquet writer and reader of Mage's tables: a job's parts (<see cref="EmbeddingRow"/>,
/// <see cref="TokenRow"/>) and <c>mage embed</c>'s file. A row class's <c>JsonPropertyName</c>s
/// are its column names. Stateless and thread-safe.
/// </summary>
public static class ParquetTable
{
    /// <summary>Writes <paramref name="rows"/> to <paramref name="stream"/>, with key-value metadata in the file footer.</summary>
    public static Task WriteAsync<TRow>(Stream stream, IEnumerable<TRow> rows, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(rows);
        return ParquetSerializer.SerializeAsync(rows, stream, null, metadata is null ? null : new Dictionary<string, string>(metadata), cancellationToken);
    }

    /// <summary>The rows as one Parquet file in memory.</summary>
    public static async Task<byte[]> ToBytesAsync<TRow>(IEnumerable<TRow> rows, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream();
        await WriteAsync(stream, rows, null, cancellationToken).ConfigureAwait(false);
        return stream.ToArray();
    }

    /// <summary>Reads a table back into rows of <typeparamref name="TRow"/>.</summary>
    public static async Task<IList<TRow>> ReadAsync<TRow>(Stream stream, CancellationToken cancellationToken = default)
        where TRow : class, new()
    {
        var result = await ParquetSerializer.DeserializeAsync<TRow>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Data;
    }
}

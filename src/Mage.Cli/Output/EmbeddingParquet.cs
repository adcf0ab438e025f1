using System.Text.Json.Serialization;
using Parquet.Serialization;

namespace Mage.Cli.Output;

/// <summary>One row of an embeddings Parquet file: the source image and its feature.</summary>
internal sealed class EmbeddingRow
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("embedding")]
    public List<float> Embedding { get; set; } = [];
}

/// <summary>Writes embeddings as Parquet: columns <c>name</c> (string) and <c>embedding</c> (list&lt;float&gt;).</summary>
internal static class EmbeddingParquet
{
    public static async Task WriteAsync(string path, IReadOnlyList<string> names, IReadOnlyList<float[]> embeddings, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var rows = names.Select((name, i) => new EmbeddingRow { Name = name, Embedding = [.. embeddings[i]] });
        ArrayFiles.CreateParent(path);
        await using var stream = File.Create(path);
        await ParquetSerializer.SerializeAsync(rows, stream, null, metadata, cancellationToken);
    }
}

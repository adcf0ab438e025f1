using System.Text.Json.Serialization;

namespace Mage.Cli.Output;

/// <summary>One row of the embeddings Parquet file <c>mage embed</c> writes: the source image and its feature.</summary>
internal sealed class EmbeddingFileRow
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("embedding")]
    public List<float> Embedding { get; set; } = [];
}

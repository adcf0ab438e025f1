using System.Text.Json.Serialization;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Outputs;

/// <summary>
/// One row of an <c>embeddings</c> job's Parquet part: a blob and its embedding, or why it has none
/// (<c>reason: message</c>, see <see cref="ErrorReasons.Format"/>).
/// </summary>
internal sealed class EmbeddingRow
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

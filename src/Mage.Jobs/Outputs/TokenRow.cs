using System.Text.Json.Serialization;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Outputs;

/// <summary>
/// One row of a <c>tokens</c> job's Parquet part: a blob and its 256 token ids (int64, row-major
/// 16×16, as <c>mage tokenize</c> writes them), or why it has none (see <see cref="ErrorReasons.Format"/>).
/// </summary>
internal sealed class TokenRow
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("etag")]
    public string? Etag { get; set; }

    [JsonPropertyName("tokens")]
    public List<long>? Tokens { get; set; }

    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

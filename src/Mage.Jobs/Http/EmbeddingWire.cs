using System.Text.Json.Serialization;

namespace Mage.Jobs.Http;

/// <summary>
/// The answers of <c>POST /api/embeddings</c>, in its two shapes. The names are fixed here because the
/// Functions worker's serializer has no naming policy. Immutable.
/// </summary>
internal static class EmbeddingWire
{
    /// <summary>The plain shape: <c>{ "embeddings": [...] }</c>, one item per image in request order.</summary>
    public sealed record Answer([property: JsonPropertyName("embeddings")] IReadOnlyList<Item> Embeddings);

    /// <summary>One image's vector, or its error (<c>reason: message</c>, <see cref="Vocabulary.ErrorReasons.Format"/>).</summary>
    public sealed record Item(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("embedding"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] float[]? Embedding,
        [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

    /// <summary>The Azure AI Search custom Web API skill shape: <c>{ "values": [...] }</c>.</summary>
    public sealed record SkillAnswer([property: JsonPropertyName("values")] IReadOnlyList<SkillRecord> Values);

    /// <summary>One record's output; <see cref="Data"/> is empty when <see cref="Errors"/> is not.</summary>
    public sealed record SkillRecord(
        [property: JsonPropertyName("recordId")] string RecordId,
        [property: JsonPropertyName("data")] SkillData Data,
        [property: JsonPropertyName("errors")] IReadOnlyList<SkillMessage> Errors,
        [property: JsonPropertyName("warnings")] IReadOnlyList<SkillMessage> Warnings);

    /// <summary>The skill's output field <c>vector</c>.</summary>
    public sealed record SkillData([property: JsonPropertyName("vector"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] float[]? Vector);

    /// <summary>An error or warning as Azure AI Search reads it.</summary>
    public sealed record SkillMessage([property: JsonPropertyName("message")] string Message);
}

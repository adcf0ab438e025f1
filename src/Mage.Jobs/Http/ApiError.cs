using System.Text.Json.Serialization;

namespace Mage.Jobs.Http;

/// <summary>
/// The body of every HTTP answer that is not a success. The names are fixed here because the
/// Functions worker's serializer has no naming policy.
/// </summary>
public sealed record ApiError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("correlationId")] string CorrelationId);

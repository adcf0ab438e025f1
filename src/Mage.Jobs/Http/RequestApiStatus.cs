using System.Text.Json.Serialization;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Http;

/// <summary>
/// The answer to <c>GET /api/edits/{id}</c> and <c>GET /api/generations/{id}</c>. The names are fixed
/// here because the Functions worker's serializer has no naming policy.
/// </summary>
/// <param name="RequestId">The request.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Reason">Why it failed (error.json's <c>reason</c>); null unless failed.</param>
/// <param name="Error">Why it failed, for people (error.json's <c>message</c>); null unless failed.</param>
/// <param name="Outputs">API links to its files (<c>/api/edits/{id}/files/image-0.png</c>, …); empty unless completed.</param>
/// <param name="Progress">How far a running request has got, once its worker has noted it; null otherwise.</param>
public sealed record RequestApiStatus(
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("state")] RequestState State,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ErrorReason? Reason,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonPropertyName("outputs")] IReadOnlyList<string> Outputs,
    [property: JsonPropertyName("progress"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RequestApiProgress? Progress = null);

/// <summary>A running request's decoding steps: <paramref name="StepsDone"/> of <paramref name="StepsTotal"/> (the engine's <c>StepProgress</c>, as its worker last noted it).</summary>
/// <param name="StepsDone">Steps done, 1..<paramref name="StepsTotal"/>.</param>
/// <param name="StepsTotal">Steps the request runs in all (for a generation: chunks × steps; an outpainting: windows × steps).</param>
public sealed record RequestApiProgress(
    [property: JsonPropertyName("stepsDone")] int StepsDone,
    [property: JsonPropertyName("stepsTotal")] int StepsTotal);

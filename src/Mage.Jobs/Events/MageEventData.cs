using System.Text.Json.Serialization;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Events;

/// <summary>The <c>data</c> of a Mage event.</summary>
/// <param name="JobId">Bulk job id, for job events.</param>
/// <param name="RequestId">Request id, for edit and generation events.</param>
/// <param name="Status"><see cref="RecordStatus.Completed"/> or <see cref="RecordStatus.Failed"/>.</param>
/// <param name="Outputs">Blob URIs or container/name paths of what was written.</param>
/// <param name="Error">Why it failed.</param>
public sealed record MageEventData(
    [property: JsonPropertyName("jobId")] string? JobId,
    [property: JsonPropertyName("requestId")] string? RequestId,
    [property: JsonPropertyName("status")] RecordStatus Status,
    [property: JsonPropertyName("outputs")] IReadOnlyList<string> Outputs,
    [property: JsonPropertyName("error")] string? Error = null);

using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Requests;

/// <summary>The result.json (or error.json) of an edit or generation request.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="Status"><see cref="RecordStatus.Completed"/> or <see cref="RecordStatus.Failed"/>.</param>
/// <param name="Kind">What was asked for, when the message said.</param>
/// <param name="Outputs">container/name paths of the files written.</param>
/// <param name="Model">The model that produced them.</param>
/// <param name="Parameters">The request as understood, defaults filled in.</param>
/// <param name="ElapsedMs">Time from start to commit.</param>
/// <param name="Reason">Why it failed.</param>
/// <param name="Message">Why it failed, for people: names the offending value.</param>
public sealed record RequestRecord(
    string RequestId,
    RecordStatus Status,
    RequestKind? Kind,
    IReadOnlyList<string> Outputs,
    ModelInfo? Model,
    object? Parameters,
    double? ElapsedMs,
    ErrorReason? Reason,
    string? Message);

using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Requests;

/// <summary>What happened to one edit or generation request; <paramref name="Error"/> is <c>reason: message</c> (<see cref="ErrorReasons.Format"/>).</summary>
public sealed record RequestOutcome(WorkOutcome Status, string? Folder, string? Error = null);

using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Uploads;

/// <summary>What happened to one upload.</summary>
/// <param name="Status"><see cref="WorkOutcome.Completed"/>, <see cref="WorkOutcome.Failed"/>, <see cref="WorkOutcome.Skipped"/> (already done) or <see cref="WorkOutcome.Gone"/> (blob deleted or replaced).</param>
/// <param name="Folder">The results folder, or null when nothing was written.</param>
/// <param name="Error">Why it failed: <c>reason: message</c>.</param>
public sealed record UploadOutcome(WorkOutcome Status, string? Folder, string? Error = null);

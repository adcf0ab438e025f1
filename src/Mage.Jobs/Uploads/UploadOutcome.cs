using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Uploads;

/// <summary>What happened to one upload.</summary>
/// <param name="Status"><see cref="Outcome.Completed"/>, <see cref="Outcome.Failed"/>, <see cref="Outcome.Skipped"/> (already done) or <see cref="Outcome.Gone"/> (blob deleted or replaced).</param>
/// <param name="Folder">The results folder, or null when nothing was written.</param>
/// <param name="Error">Why it failed: <c>reason: message</c>.</param>
public sealed record UploadOutcome(Outcome Status, string? Folder, string? Error = null);

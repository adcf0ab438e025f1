using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.BulkJobs;

/// <summary>The record of a job message that named no usable job id: <c>rejected/{hash}.json</c> in the jobs container.</summary>
/// <param name="Status">Always <see cref="RecordStatus.Failed"/>.</param>
/// <param name="Reason">Always <see cref="ErrorReason.InvalidMessage"/>.</param>
/// <param name="Message">Why it was refused.</param>
/// <param name="Body">The first 4096 characters of the message.</param>
public sealed record RejectedJobRecord(RecordStatus Status, ErrorReason Reason, string Message, string Body);

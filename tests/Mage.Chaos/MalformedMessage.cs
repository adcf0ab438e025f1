using Mage.Jobs.Options;

namespace Mage.Chaos;

/// <summary>
/// One malformed message of the run and where the services record it (docs/operations.md,
/// Failure handling): a job message as a failed status of <see cref="Id"/> or as
/// <c>rejected/{hash}.json</c>; an edit or generation message as <c>error.json</c> in its
/// request's folder or under <c>_rejected/{hash}/</c>; a shard message only in the worker's log
/// (<c>ignored</c>: shard messages come from the service itself, nothing is recorded); a body that
/// is not base64 (<see cref="Raw"/>) in <c>{queue}-poison</c>.
/// </summary>
/// <param name="Queue">The queue it is sent to.</param>
/// <param name="Body">The text sent (base64-encoded unless <paramref name="Raw"/>).</param>
/// <param name="Id">The job or request id the services can still read from it, if any.</param>
/// <param name="Raw">Sent as is, not base64: the worker cannot decode it.</param>
/// <param name="What">What is wrong with it, for the report.</param>
/// <param name="Reason">The error reason its record must give, when the catalogue expects one (<c>nameTooLong</c>); else any known reason.</param>
internal sealed record MalformedMessage(WorkQueue Queue, string Body, string? Id, bool Raw, string What, string? Reason = null);

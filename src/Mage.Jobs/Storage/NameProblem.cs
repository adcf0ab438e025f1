using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Storage;

/// <summary>Why a name was refused (<see cref="BlobNames"/>): its error reason and one sentence.</summary>
/// <param name="Reason"><see cref="ErrorReason.NameTooLong"/> for a name over a length or segment limit, else <see cref="ErrorReason.InvalidName"/>.</param>
/// <param name="Message">What is wrong, with the limit and the name's own length or segments.</param>
internal sealed record NameProblem(ErrorReason Reason, string Message);

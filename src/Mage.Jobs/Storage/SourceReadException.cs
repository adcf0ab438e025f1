using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Storage;

/// <summary>
/// A source blob a request names cannot be read, and asking again would get the same answer: it
/// does not exist (<see cref="ErrorReason.Missing"/>), or storage refused the read
/// (<see cref="StorageFailures.IsRefused"/>). Thrown by <see cref="SourceReads"/>; services record
/// it as a row or request error, never retry it.
/// </summary>
internal sealed class SourceReadException(ErrorReason reason, string message) : Exception(message)
{
    /// <summary>The reason to record.</summary>
    public ErrorReason Reason => reason;
}

using Mage.Jobs.Storage;

namespace Mage.Jobs.Services;

/// <summary>
/// Another delivery holds the claim (<see cref="WorkClaim"/>) on the work this message asks for,
/// so this copy did nothing. Thrown rather than returned so that every host retries the message
/// later (the Functions host after its visibility timeout, <c>mage worker</c> after its retry
/// delay): by then the holder has committed (the retry is skipped) or died (the retry does the work).
/// </summary>
internal sealed class WorkClaimedException : Exception
{
    private WorkClaimedException(string message)
        : base(message)
    {
    }

    /// <summary>The claim whose marker is <paramref name="marker"/> (container/name) is held for <paramref name="work"/>.</summary>
    public static WorkClaimedException For(string work, string marker) =>
        new($"{work} is being computed by another delivery (claim {marker} is leased); this copy did nothing and will be retried.");
}

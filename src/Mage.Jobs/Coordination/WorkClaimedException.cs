
namespace Mage.Jobs.Coordination;

/// <summary>
/// Another delivery holds the claim on the work this message asks for, so this copy did nothing.
/// Thrown rather than returned so that every host retries the message later (the Functions host
/// after its visibility timeout, <c>mage worker</c> after <see cref="RetryAfter"/>): by then the
/// holder has committed (the retry is skipped) or died (the retry does the work). The copy may be
/// the holder's own message, back after the holder died, so it must never be dropped.
/// </summary>
public sealed class WorkClaimedException : Exception
{
    private WorkClaimedException(string message)
        : base(message)
    {
    }

    /// <summary>
    /// When to retry a claimed message: a third of a claim's lease, so the claim of a claimer that
    /// died lapses within three retries.
    /// </summary>
    public static TimeSpan RetryAfter => WorkClaim.LeaseDuration / 3;

    /// <summary>The claim whose marker is <paramref name="marker"/> (container/name) is held for <paramref name="work"/>.</summary>
    internal static WorkClaimedException For(string work, string marker) =>
        new($"{work} is being computed by another delivery (claim {marker} is leased); this copy did nothing and will be retried.");
}

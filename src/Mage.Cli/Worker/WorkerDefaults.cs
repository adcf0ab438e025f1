
namespace Mage.Cli.Worker;

/// <summary>
/// The lease numbers of <c>mage worker</c> (<see cref="QueueWorker"/>), in one place for
/// the worker, its command line and docs/operations.md.
/// </summary>
internal static class WorkerDefaults
{
    /// <summary>
    /// How long a received message stays hidden before the worker renews it, in seconds. A crashed
    /// worker's messages are visible again after at most this long, so it bounds recovery; a
    /// running one renews it <see cref="RenewalsPerLease"/> times per lease, so a renewal may fail
    /// (a storage blip) without the lease lapsing.
    /// </summary>
    public const int LeaseSeconds = 30;

    /// <summary>Shortest <c>--lease</c>: below this, renewals (every third of it) would be most of the traffic.</summary>
    public const int MinLeaseSeconds = 5;

    /// <summary>Longest <c>--lease</c> (the Functions host's fixed initial visibility).</summary>
    public const int MaxLeaseSeconds = 600;

    /// <summary>Renewals per lease: the lease is renewed every <c>lease / RenewalsPerLease</c>.</summary>
    public const int RenewalsPerLease = 3;
}

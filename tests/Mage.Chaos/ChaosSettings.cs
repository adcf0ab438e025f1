namespace Mage.Chaos;

/// <summary>
/// What one chaos run does: how many workers, images and faults, and how long it may take. Every
/// bound is generous and based on progress (the run waits while work advances), because CI runs
/// other test assemblies on the same cores. Immutable.
/// </summary>
/// <param name="Workers">Concurrent <c>mage worker</c> processes.</param>
/// <param name="Images">Images in the bulk job's source, corrupt ones included.</param>
/// <param name="CorruptImages">How many of <paramref name="Images"/> are corrupt (cut, garbage, empty).</param>
/// <param name="ShardSize">The job's shard size.</param>
/// <param name="Kills">SIGKILLs of a worker holding a shard, each followed by a restart.</param>
/// <param name="OutageSeconds">Storage outages, one after the other: Azurite stopped this long, then restarted on the same data.</param>
/// <param name="Duplicates">Copies of each job, shard, edit and generation message sent.</param>
/// <param name="Malformed">Malformed messages spread over the four queues (at most <see cref="MalformedMessages.Count"/>).</param>
/// <param name="StormUploads">Operations of the upload storm (uploads, overwrites, deletes) on the uploads container.</param>
/// <param name="CorruptUploads">How many storm uploads are corrupt images.</param>
/// <param name="LeaseSeconds">The workers' <c>--lease</c>.</param>
/// <param name="StallTimeout">The run fails as stuck when no work advances for this long.</param>
/// <param name="SettleTimeout">The longest wait for everything to be done after the last fault, progress or not.</param>
internal sealed record ChaosSettings(
    int Workers,
    int Images,
    int CorruptImages,
    int ShardSize,
    int Kills,
    IReadOnlyList<int> OutageSeconds,
    int Duplicates,
    int Malformed,
    int StormUploads,
    int CorruptUploads,
    int LeaseSeconds,
    TimeSpan StallTimeout,
    TimeSpan SettleTimeout)
{
    /// <summary>The CI run (ChaosSuiteTests): a few minutes on two shared cores.</summary>
    public static ChaosSettings Bounded { get; } = new(
        Workers: 3, Images: 96, CorruptImages: 4, ShardSize: 8, Kills: 2, OutageSeconds: [20, 60], Duplicates: 3, Malformed: MalformedMessages.Count,
        StormUploads: 40, CorruptUploads: 3, LeaseSeconds: 5, StallTimeout: TimeSpan.FromSeconds(180), SettleTimeout: TimeSpan.FromMinutes(10));

    /// <summary>The longer run of <c>tests/chaos/run.sh --long</c>.</summary>
    public static ChaosSettings Long { get; } = Bounded with
    {
        Workers = 4, Images = 400, CorruptImages = 8, ShardSize = 16, Kills = 6, StormUploads = 300, CorruptUploads = 10,
        SettleTimeout = TimeSpan.FromMinutes(30),
    };

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(Images, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(CorruptImages);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(CorruptImages, Images);
        ArgumentOutOfRangeException.ThrowIfLessThan(ShardSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(Kills);
        ArgumentOutOfRangeException.ThrowIfLessThan(Duplicates, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(Malformed);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Malformed, MalformedMessages.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(StormUploads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(CorruptUploads, StormUploads);
        ArgumentOutOfRangeException.ThrowIfLessThan(LeaseSeconds, 5);
        foreach (var seconds in OutageSeconds)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 1, nameof(OutageSeconds));
        }
    }
}

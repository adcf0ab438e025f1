namespace Mage.Jobs.BulkJobs;

/// <summary>
/// One listing range of a job listed in ranges (<see cref="JobStatus.ListRanges"/>): the virtual
/// folder it lists now, its position there, and the last page it committed whose shards may not
/// be written and sent yet (a delivery that died after the commit left them: the next delivery of
/// the range does it from <see cref="PendingPage"/>). Changed only in the job's status document,
/// with If-Match, by the delivery that holds the range's claim.
/// </summary>
public sealed record ListRange
{
    /// <summary>The range's number: <see cref="JobMessage.ListRange"/> of its messages.</summary>
    public required int Index { get; init; }

    /// <summary>The folder the range lists, an index into the job's folder list (<see cref="JobStatus.ListFolders"/> of them).</summary>
    public int Folder { get; init; }

    /// <summary>The continuation token of the folder's next page; null at the folder's start.</summary>
    public string? Cursor { get; init; }

    /// <summary>True once the range has listed its last folder and no folder is left to take.</summary>
    public bool Ended { get; init; }

    /// <summary>The first shard of the range's last committed page, while its shards may not be written and sent.</summary>
    public int PendingFirst { get; init; }

    /// <summary>How many shards that page has (0: none pending).</summary>
    public int PendingShards { get; init; }

    /// <summary>The blob in the jobs container that holds that page's names, while they may not be written as shards.</summary>
    public string? PendingPage { get; init; }
}

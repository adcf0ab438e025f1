namespace Mage.Jobs.BulkJobs;

/// <summary>
/// One page of a job's source as <see cref="SourcePages"/> reads it: its blobs in order, and the
/// position after it (<see cref="JobStatus.ListCursor"/>), or null when the source ends with this page.
/// </summary>
internal sealed record SourcePage(IReadOnlyList<ShardBlob> Blobs, string? Next);

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// The images of a job, in one container: a prefix, an explicit list of blobs, or <paramref name="List"/>,
/// the name of a blob in the same container that lists them one per line (read as a stream, for lists
/// too long for a message).
/// </summary>
public sealed record JobSourceRequest(string? Container, string? Prefix, IReadOnlyList<string>? Blobs, string? List = null);

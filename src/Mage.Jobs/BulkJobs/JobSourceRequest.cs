namespace Mage.Jobs.BulkJobs;

/// <summary>Either a prefix or an explicit list of blobs in one container.</summary>
public sealed record JobSourceRequest(string? Container, string? Prefix, IReadOnlyList<string>? Blobs);

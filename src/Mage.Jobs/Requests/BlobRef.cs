namespace Mage.Jobs.Requests;

/// <summary>A blob reference in a request.</summary>
public sealed record BlobRef(string? Container, string? Name);

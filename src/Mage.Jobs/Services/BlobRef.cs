namespace Mage.Jobs.Services;

/// <summary>A blob reference in a request.</summary>
public sealed record BlobRef(string? Container, string? Name);

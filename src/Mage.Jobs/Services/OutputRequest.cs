namespace Mage.Jobs.Services;

/// <summary>Where results go.</summary>
public sealed record OutputRequest(string? Container, string? Prefix);

namespace Mage.Jobs.Requests;

/// <summary>Where results go.</summary>
public sealed record OutputRequest(string? Container, string? Prefix);

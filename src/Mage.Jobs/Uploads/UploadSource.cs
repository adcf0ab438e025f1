namespace Mage.Jobs.Uploads;

/// <summary>The blob a result came from.</summary>
/// <param name="Container">Its container.</param>
/// <param name="Name">Its name.</param>
/// <param name="Etag">The version processed.</param>
/// <param name="Bytes">Encoded size in bytes.</param>
/// <param name="Sha256">SHA-256 of the encoded bytes, hex; null when they were never downloaded.</param>
/// <param name="Width">Decoded width in pixels before preprocessing.</param>
/// <param name="Height">Decoded height in pixels before preprocessing.</param>
public sealed record UploadSource(string Container, string Name, string Etag, long Bytes, string? Sha256, int? Width, int? Height);

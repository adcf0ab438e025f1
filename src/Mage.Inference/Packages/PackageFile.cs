using System.Text.Json.Serialization;

namespace Mage.Inference.Packages;

/// <summary>One file of a package with its SHA-256 (lower-case hex) and size in bytes.</summary>
public sealed record PackageFile
{
    [JsonPropertyName("sha256")] public string Sha256 { get; init; } = "";
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
}

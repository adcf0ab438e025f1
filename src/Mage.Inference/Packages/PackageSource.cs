using System.Text.Json.Serialization;

namespace Mage.Inference.Packages;

/// <summary>Where the weights came from: an official checkpoint or seeded random weights.</summary>
public sealed record PackageSource
{
    [JsonPropertyName("kind")] public string Kind { get; init; } = "";
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("sha256")] public string? Sha256 { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }

    /// <summary>True for seeded random weights, whose outputs are not meaningful images or features.</summary>
    [JsonIgnore] public bool IsRandom => Kind == "random-init";
}

using Mage.Inference;

namespace Mage.Jobs.Services;

/// <summary>
/// An unconditional generation request as it arrives. Unknown members are rejected; absent
/// schedule values take <see cref="MageDefaults.GenerateSteps"/> and <see cref="MageDefaults.GenerateTemperature"/>.
/// </summary>
public sealed record GenerateRequestMessage(
    string? RequestId,
    int? Count,
    ulong? Seed,
    int? Steps,
    double? Temperature,
    bool? Deterministic,
    OutputRequest? Output);

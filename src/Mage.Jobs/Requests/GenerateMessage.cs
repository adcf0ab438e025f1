using Mage.Inference;

namespace Mage.Jobs.Requests;

/// <summary>
/// An unconditional generation request as it arrives. Unknown members are rejected; absent
/// schedule values take <see cref="MageDefaults.GenerateSteps"/> and <see cref="MageDefaults.GenerateTemperature"/>.
/// </summary>
public sealed record GenerateMessage(
    string? RequestId,
    int? Count,
    ulong? Seed,
    int? Steps,
    double? Temperature,
    bool? Deterministic,
    OutputRequest? Output) : IRequestMessage
{
    /// <summary>Always generation: the message has no kind field.</summary>
    RequestKind? IRequestMessage.Kind => RequestKind.Generate;

    /// <summary>Generation reads no blob.</summary>
    IEnumerable<(BlobRef Blob, string Field)> IRequestMessage.Reads => [];
}

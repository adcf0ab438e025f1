namespace Mage.Inference.Engine;

/// <summary>Unconditional generation (docs/model.md#decode-schedule).</summary>
/// <param name="Count">Images to make, 1..<see cref="MageDefaults.MaxGenerateCount"/>.</param>
/// <param name="Seed">Seed; image i of a seed is the same whatever the batch (it is keyed by seed and index).</param>
/// <param name="Steps">Decoding iterations; <see cref="MageDefaults.GenerateSteps"/> by default.</param>
/// <param name="Temperature">Choice temperature of the Gumbel noise; <see cref="MageDefaults.GenerateTemperature"/> by default.</param>
/// <param name="Deterministic">Argmax instead of sampling, and no noise.</param>
/// <param name="FirstIndex">Index of the first image, so a large job can be split across calls and machines.</param>
public sealed record GenerateRequest(
    int Count,
    ulong Seed,
    int Steps = MageDefaults.GenerateSteps,
    double Temperature = MageDefaults.GenerateTemperature,
    bool Deterministic = false,
    long FirstIndex = 0);

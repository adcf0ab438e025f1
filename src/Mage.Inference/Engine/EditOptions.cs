namespace Mage.Inference.Engine;

/// <summary>Options shared by inpainting, outpainting and uncropping (docs/model.md#editing).</summary>
/// <param name="Steps">Decoding iterations; <see cref="MageDefaults.EditSteps"/> by default.</param>
/// <param name="Temperature">Choice temperature; <see cref="MageDefaults.EditTemperature"/> by default.</param>
/// <param name="Deterministic">Argmax instead of sampling, and no noise.</param>
/// <param name="Seed">Seed of the sampling and the noise.</param>
/// <param name="Blend">Keep the original pixels outside the edit (feathered at its edge when inpainting).</param>
/// <param name="FeatherPixels">Width of the inpainting blend ramp inside the edit, in pixels.</param>
public sealed record EditOptions(
    int Steps = MageDefaults.EditSteps,
    double Temperature = MageDefaults.EditTemperature,
    bool Deterministic = false,
    ulong Seed = 0,
    bool Blend = true,
    int FeatherPixels = MageDefaults.FeatherPixels);

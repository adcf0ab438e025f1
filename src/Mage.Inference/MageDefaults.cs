using System.Globalization;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Inference;

/// <summary>
/// The one home of request defaults and limits: the engine's request records, the job and
/// request messages of Mage.Jobs and the options of the <c>mage</c> command all read them here,
/// and <see cref="CheckSteps"/> / <see cref="CheckTemperature"/> are the only schedule checks.
/// Image-size limits live with the image loader, in <see cref="ImageLimits"/>.
/// </summary>
public static class MageDefaults
{
    /// <summary>Decoding iterations of unconditional generation: MAGE's FID setting (docs/model.md#decode-schedule).</summary>
    public const int GenerateSteps = 20;

    /// <summary>Choice temperature of unconditional generation: MAGE's FID setting.</summary>
    public const double GenerateTemperature = 6.0;

    /// <summary>Decoding iterations of inpainting, outpainting and uncropping: MaskGIT's editing setting.</summary>
    public const int EditSteps = 12;

    /// <summary>Choice temperature of editing.</summary>
    public const double EditTemperature = 4.5;

    /// <summary>
    /// Most decoding iterations any request may ask for, in the library, the service and the CLI.
    /// Each step runs the whole transformer once, so 64 steps cost 3.2 times the FID setting; the
    /// official code never uses more than 20.
    /// </summary>
    public const int MaxSteps = 64;

    /// <summary>Largest choice temperature (the noise would drown the model's confidences long before).</summary>
    public const double MaxTemperature = 100;

    /// <summary>Most images one generation request may ask for.</summary>
    public const int MaxGenerateCount = 4096;

    /// <summary>
    /// Largest outpainting margin on any side, in pixels: the engine's cap
    /// (<see cref="Editing.OutpaintPlan"/>); service limits may be lower, never higher.
    /// </summary>
    public const int MaxOutpaintMargin = 4096;

    /// <summary>
    /// Smallest uncrop scale: the input shrunk to one token (16 of the canvas's 256 pixels)
    /// (<see cref="Editing.UncropPlan"/>).
    /// </summary>
    public const double MinUncropScale = 1.0 / MageTokens.GridSize;

    /// <summary>Width of the inpainting blend ramp inside the edit, in pixels.</summary>
    public const int FeatherPixels = 8;

    /// <summary>The feature an embedding returns unless asked otherwise: the linear-probe representation.</summary>
    public const FeaturePooling Pooling = FeaturePooling.Linprobe;

    /// <summary>How images become 256x256 for embeddings: the official evaluation crop.</summary>
    public const PreprocessMode EmbedPreprocess = PreprocessMode.Linprobe;

    /// <summary>How images become 256x256 for tokenizing and editing: as much of the image as a square crop keeps.</summary>
    public const PreprocessMode EditPreprocess = PreprocessMode.Square;

    /// <summary>Null when <paramref name="steps"/> is between 1 and <see cref="MaxSteps"/>, else why not.</summary>
    /// <param name="steps">The requested decoding iterations.</param>
    /// <param name="field">How the caller names the value (<c>steps</c>, <c>--steps</c>).</param>
    public static string? CheckSteps(int steps, string field) =>
        steps is < 1 or > MaxSteps ? $"{field} {steps} must be between 1 and {MaxSteps}." : null;

    /// <summary>Null when <paramref name="temperature"/> is finite and between 0 and <see cref="MaxTemperature"/>, else why not.</summary>
    /// <param name="temperature">The requested choice temperature.</param>
    /// <param name="field">How the caller names the value (<c>temperature</c>, <c>--temperature</c>).</param>
    public static string? CheckTemperature(double temperature, string field) =>
        !double.IsFinite(temperature) || temperature < 0 || temperature > MaxTemperature
            ? string.Create(CultureInfo.InvariantCulture, $"{field} {temperature} must be a finite number between 0 and {MaxTemperature}.")
            : null;
}

using Mage.Inference.Editing;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Engine;

/// <summary>How to turn an image into an embedding.</summary>
/// <param name="Pooling">Which feature (MODEL.md section 3); <see cref="MageDefaults.Pooling"/> by default.</param>
/// <param name="Normalize">Scale the feature to unit L2 norm.</param>
/// <param name="Preprocess">How the image becomes 256x256; <see cref="MageDefaults.EmbedPreprocess"/> by default.</param>
public sealed record EmbedOptions(
    FeaturePooling Pooling = MageDefaults.Pooling,
    bool Normalize = false,
    PreprocessMode Preprocess = MageDefaults.EmbedPreprocess);

/// <summary>The tokens and feature of one image.</summary>
/// <param name="Tokens">256 codebook ids, row-major over the 16x16 grid.</param>
/// <param name="Features">D floats.</param>
/// <param name="Options">The options used.</param>
/// <param name="SourceWidth">Width of the decoded image before preprocessing, in pixels.</param>
/// <param name="SourceHeight">Height of the decoded image before preprocessing, in pixels.</param>
/// <param name="DecodeTime">Time to decode and preprocess the image.</param>
/// <param name="InferenceTime">Time from submitting to the batchers until the feature came back (includes waiting for a batch).</param>
public sealed record ImageEmbedding(
    long[] Tokens,
    float[] Features,
    EmbedOptions Options,
    int SourceWidth,
    int SourceHeight,
    TimeSpan DecodeTime,
    TimeSpan InferenceTime);

/// <summary>Unconditional generation (MODEL.md section 4).</summary>
/// <param name="Count">Images to make, 1..<see cref="MaxCount"/>.</param>
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
    long FirstIndex = 0)
{
    /// <summary>The most images one request may ask for.</summary>
    public const int MaxCount = MageDefaults.MaxGenerateCount;
}

/// <summary>Options shared by inpainting, outpainting and uncropping (MODEL.md section 5).</summary>
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

/// <summary>The result of an edit. The caller owns <see cref="Image"/> and must dispose it.</summary>
/// <param name="Image">The edited image (256x256, or the extended canvas for outpainting).</param>
/// <param name="Tokens">The decoded 256 ids of each 256x256 window (one for inpainting and uncropping).</param>
/// <param name="Unknown">Which tokens of each window were generated.</param>
/// <param name="Windows">Top-left corner of each window on the canvas, in pixels.</param>
public sealed record EditResult(
    Image<Rgb24> Image,
    IReadOnlyList<long[]> Tokens,
    IReadOnlyList<TokenMask> Unknown,
    IReadOnlyList<Point> Windows) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Image.Dispose();
}

/// <summary>One generated image. The caller owns <see cref="Image"/> and must dispose it.</summary>
/// <param name="Index">Its index within the seed.</param>
/// <param name="Tokens">Its 256 ids.</param>
/// <param name="Image">The decoded 256x256 image.</param>
public sealed record GeneratedImage(long Index, long[] Tokens, Image<Rgb24> Image) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Image.Dispose();
}

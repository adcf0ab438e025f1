using Mage.Inference.Editing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Engine;

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

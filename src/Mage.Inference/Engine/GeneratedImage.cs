using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Engine;

/// <summary>One generated image. The caller owns <see cref="Image"/> and must dispose it.</summary>
/// <param name="Index">Its index within the seed.</param>
/// <param name="Tokens">Its 256 ids.</param>
/// <param name="Image">The decoded 256x256 image.</param>
public sealed record GeneratedImage(long Index, long[] Tokens, Image<Rgb24> Image) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Image.Dispose();
}

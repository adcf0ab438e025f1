using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Cli.Output;

/// <summary>Writes decoded images as PNG files.</summary>
internal static class ImageFiles
{
    /// <summary>Writes each image to <paramref name="folder"/> under the name it is given, and disposes it.</summary>
    public static async Task WritePngsAsync(IReadOnlyList<Image<Rgb24>> images, string folder, Func<int, string> nameOf, CancellationToken cancellationToken)
    {
        for (var i = 0; i < images.Count; i++)
        {
            using var image = images[i];
            await File.WriteAllBytesAsync(Path.Combine(folder, nameOf(i)), PngEncoding.Encode(image), cancellationToken);
        }
    }
}

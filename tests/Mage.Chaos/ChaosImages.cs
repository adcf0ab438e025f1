using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Chaos;

/// <summary>The run's images: small seeded PNGs and the corrupt kinds the loader must refuse by name. Thread-safe.</summary>
internal static class ChaosImages
{
    /// <summary>A 32×32 PNG of seeded random blocks (each seed a different image).</summary>
    public static byte[] Good(int seed)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(32, 32);
        var blocks = new Rgb24[16];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        }

        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = blocks[((y / 8) * 4) + (x / 8)];
                }
            }
        });
        return PngEncoding.Encode(image);
    }

    /// <summary>
    /// Corrupt image <paramref name="n"/>, cycling through: a JPEG cut in half, a PNG cut in half,
    /// random bytes, an empty blob, a PNG signature followed by garbage.
    /// </summary>
    public static byte[] Corrupt(int n)
    {
        var random = new Random(1000 + n);
        switch (n % 5)
        {
            case 0:
            {
                using var image = Image.Load<Rgb24>(Good(n));
                using var jpeg = new MemoryStream();
                image.SaveAsJpeg(jpeg);
                return jpeg.ToArray()[..(int)(jpeg.Length / 2)];
            }

            case 1:
                var png = Good(n);
                return png[..(png.Length / 2)];
            case 2:
                var bytes = new byte[4096];
                random.NextBytes(bytes);
                return bytes;
            case 3:
                return [];
            default:
                var fake = new byte[2048];
                random.NextBytes(fake);
                byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
                signature.CopyTo(fake, 0);
                return fake;
        }
    }
}

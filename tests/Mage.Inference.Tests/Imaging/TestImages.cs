using System.Buffers.Binary;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Inference.Tests.Imaging;

/// <summary>Builds test inputs: encoded images from ImageSharp, and hand-made hostile bytes.</summary>
internal static class TestImages
{
    public static Image<Rgb24> Solid(int width, int height, Rgb24 color)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                a.GetRowSpan(y).Fill(color);
            }
        });
        return image;
    }

    /// <summary>Every pixel different: R = x, G = y, B = (x * 7 + y * 13) mod 256.</summary>
    public static Image<Rgb24> Pattern(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(a =>
        {
            for (var y = 0; y < a.Height; y++)
            {
                var row = a.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)x, (byte)y, (byte)((x * 7) + (y * 13)));
                }
            }
        });
        return image;
    }

    /// <summary>Seeded noise: compresses badly, so PNGs of it have long IDAT chunks.</summary>
    public static Image<Rgb24> Noise(int width, int height, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[width * height * 3];
        random.NextBytes(bytes);
        return Image.LoadPixelData<Rgb24>(bytes, width, height);
    }

    public static byte[] Encode<TPixel>(Image<TPixel> image, IImageEncoder encoder)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    /// <summary>A PNG assembled chunk by chunk with correct CRCs, so only what we choose is wrong.</summary>
    public static byte[] Png(int width, int height, params (string Type, byte[] Data)[] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // truecolour RGB
        WriteChunk(stream, "IHDR", ihdr);
        foreach (var (type, data) in chunks)
        {
            WriteChunk(stream, type, data);
        }

        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        stream.Write(word);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typeAndData));
        stream.Write(word);
    }

    /// <summary>
    /// A 1x1 GIF with <paramref name="frames"/> image descriptors, each with a minimal LZW stream
    /// (clear, index 0, end), as a hostile encoder would emit to make a decoder loop.
    /// </summary>
    public static byte[] GifWithFrames(int frames)
    {
        using var stream = new MemoryStream();
        stream.Write("GIF89a"u8);

        // Logical screen 1x1, global colour table of 2 entries (flags 0x80), background 0, aspect 0.
        stream.Write([1, 0, 1, 0, 0x80, 0, 0]);
        stream.Write([0, 0, 0, 255, 255, 255]);
        for (var i = 0; i < frames; i++)
        {
            // Image descriptor at (0,0), 1x1, no local table; LZW code size 2; one 2-byte sub-block.
            stream.Write([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
            stream.Write([2, 2, 0x44, 0x01, 0]);
        }

        stream.WriteByte(0x3B);
        return stream.ToArray();
    }

    /// <summary>Plain CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as PNG uses.</summary>
    public static class Crc32
    {
        private static readonly uint[] Table = BuildTable();

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return crc ^ 0xFFFFFFFFu;
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (var n = 0u; n < 256; n++)
            {
                var c = n;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[n] = c;
            }

            return table;
        }
    }
}

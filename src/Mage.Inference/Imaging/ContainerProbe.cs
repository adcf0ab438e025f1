using System.Buffers.Binary;

namespace Mage.Inference.Imaging;

/// <summary>
/// Walks the block structure of image containers without decompressing anything, so the loader
/// can reject hostile inputs (thousands of frames, truncated chunks) before a decoder allocates.
/// </summary>
internal static class ContainerProbe
{
    private const byte GifExtensionIntroducer = 0x21;
    private const byte GifImageSeparator = 0x2C;
    private const byte GifTrailer = 0x3B;

    /// <summary>
    /// Counts image descriptors in a GIF, stopping once the count passes <paramref name="stopAfter"/>.
    /// A structure that ends early or holds an unknown block just ends the count: whether that is
    /// fatal is the decoder's call, and it only needs the first frame.
    /// </summary>
    public static int CountGifFrames(ReadOnlySpan<byte> data, int stopAfter)
    {
        // Header (6) + logical screen descriptor (7).
        if (data.Length < 13)
        {
            return 0;
        }

        var position = 13;
        var screenFlags = data[10];
        if ((screenFlags & 0x80) != 0)
        {
            position += 3 << ((screenFlags & 0x07) + 1);
        }

        var frames = 0;
        while (position < data.Length && frames <= stopAfter)
        {
            switch (data[position])
            {
                case GifExtensionIntroducer:
                    // Introducer and label, then data sub-blocks.
                    position = SkipGifSubBlocks(data, position + 2);
                    break;
                case GifImageSeparator:
                    // Separator (1) + left, top, width, height (8) + flags (1).
                    if (position + 10 > data.Length)
                    {
                        return frames;
                    }

                    frames++;
                    var frameFlags = data[position + 9];
                    position += 10;
                    if ((frameFlags & 0x80) != 0)
                    {
                        position += 3 << ((frameFlags & 0x07) + 1);
                    }

                    // LZW minimum code size, then the compressed data sub-blocks.
                    position = SkipGifSubBlocks(data, position + 1);
                    break;
                default:
                    // The trailer, or garbage the decoder will judge.
                    return frames;
            }
        }

        return frames;
    }

    private static int SkipGifSubBlocks(ReadOnlySpan<byte> data, int position)
    {
        while (position < data.Length)
        {
            var size = data[position];
            position += 1 + size;
            if (size == 0)
            {
                break;
            }
        }

        return position;
    }

    /// <summary>
    /// Reports whether a WebP declares animation and how many ANMF (frame) chunks it holds, by
    /// walking the RIFF chunk list.
    /// </summary>
    public static (bool Animated, int Frames) ProbeWebp(ReadOnlySpan<byte> data, int stopAfter)
    {
        // "RIFF" size "WEBP", then chunks of fourcc (4) + little-endian size (4) + even-padded payload.
        var animated = false;
        var frames = 0;
        long position = 12;
        while (position + 8 <= data.Length && frames <= stopAfter)
        {
            var chunk = data.Slice((int)position, 8);
            var fourCc = chunk[..4];
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (fourCc.SequenceEqual("VP8X"u8) && position + 9 <= data.Length)
            {
                const byte animationFlag = 0x02;
                animated |= (data[(int)position + 8] & animationFlag) != 0;
            }
            else if (fourCc.SequenceEqual("ANMF"u8))
            {
                frames++;
            }

            position += 8 + size + (size & 1);
        }

        return (animated || frames > 0, frames);
    }

    /// <summary>
    /// Returns a description of the first PNG chunk that runs past the end of the data, or null
    /// when every chunk up to IEND (or up to a clean end of data) is complete. A truncated
    /// download is the most common damaged PNG and it is cheaper to catch here than mid-inflate.
    /// </summary>
    public static string? FindPngTruncation(ReadOnlySpan<byte> data)
    {
        const int signatureLength = 8;
        long position = signatureLength;
        while (position < data.Length)
        {
            if (position + 8 > data.Length)
            {
                return $"a chunk header at offset {position} is cut off after {data.Length - position} of 8 bytes";
            }

            var header = data.Slice((int)position, 8);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header[4..]);

            // Length + type + data + CRC.
            var end = position + 8 + length + 4;
            if (end > data.Length)
            {
                return $"chunk '{type}' at offset {position} declares {length} data bytes but only {Math.Max(0, data.Length - position - 12)} remain";
            }

            if (type == "IEND")
            {
                return null;
            }

            position = end;
        }

        return null;
    }
}

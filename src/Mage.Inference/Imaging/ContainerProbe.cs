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
    private const byte JpegStartOfImage = 0xD8;
    private const byte JpegEndOfImage = 0xD9;
    private const byte JpegStartOfScan = 0xDA;

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

    /// <summary>
    /// Returns a description of where a JPEG's data ends before its end-of-image marker (FFD9),
    /// or null when the marker walk reaches EOI; bytes after EOI are ignored (cameras append
    /// data there). Data that does not start with SOI, or a segment length below 2, is left to
    /// the decoder.
    /// </summary>
    /// <remarks>
    /// A missing EOI counts as truncated even when the scan data before it may be whole, which is
    /// what PIL does in practice with its default LOAD_TRUNCATED_IMAGES = False (python3-pil 9.4,
    /// libjpeg-turbo): libjpeg decodes a progressive JPEG only once it has read EOI, and in a
    /// baseline one its suspending reader stalls on the last MCU without the marker. PIL raised
    /// "image file is truncated" for 191 of 192 JPEGs that lacked only their last two bytes (1x1
    /// to 640x480, baseline and progressive, grey and colour); the one baseline file it took had
    /// its last bits fall luckily. Refusing every missing EOI does not hang on such luck, and a
    /// file that lost its last bytes in transit gives no proof that it kept the rest.
    /// </remarks>
    public static string? FindJpegTruncation(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[0] != 0xFF || data[1] != JpegStartOfImage)
        {
            return null;
        }

        var position = 2;
        var scans = 0;
        while (true)
        {
            // Like libjpeg, skip anything that is not a marker (stray bytes, FF00, FF fill bytes)
            // to find the next one; whether stray bytes are acceptable is the decoder's call.
            var markerAt = FindMarker(data, position);
            if (markerAt < 0)
            {
                return scans == 0
                    ? $"the data ends at byte {data.Length} before the first scan (SOS)"
                    : $"the data ends at byte {data.Length} after scan {scans}, before the end-of-image marker (FFD9)";
            }

            var marker = data[markerAt + 1];
            position = markerAt + 2;
            if (marker == JpegEndOfImage)
            {
                return null;
            }

            if (IsStandaloneJpegMarker(marker))
            {
                continue;
            }

            if (position + 2 > data.Length)
            {
                return $"the data ends at byte {data.Length} inside the length of the {JpegMarkerName(marker)} marker at byte {markerAt}";
            }

            // The length counts itself (2 bytes) but not the marker.
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            if (length < 2)
            {
                return null;
            }

            if (position + length > data.Length)
            {
                return $"the {JpegMarkerName(marker)} segment at byte {markerAt} declares {length} bytes but only {data.Length - position} remain";
            }

            position += length;
            if (marker == JpegStartOfScan)
            {
                // Progressive JPEGs hold many scans, each followed by its entropy-coded data.
                scans++;
                position = SkipEntropyCodedData(data, position);
                if (position < 0)
                {
                    return $"the data ends at byte {data.Length} inside the entropy-coded data of scan {scans} (SOS at byte {markerAt})";
                }
            }
        }
    }

    /// <summary>
    /// Returns the offset of the FF of the next marker at or after <paramref name="position"/>
    /// (FF followed by a byte other than 00 and FF), or -1 when the data ends first.
    /// </summary>
    private static int FindMarker(ReadOnlySpan<byte> data, int position)
    {
        while (position < data.Length)
        {
            var ff = data[position..].IndexOf((byte)0xFF);
            if (ff < 0)
            {
                return -1;
            }

            position += ff + 1;
            if (position < data.Length && data[position] is not (0x00 or 0xFF))
            {
                return position - 1;
            }
        }

        return -1;
    }

    /// <summary>
    /// Skips a scan's entropy-coded data: every FF in it is followed by 00 (stuffing) or by a
    /// restart marker RST0-RST7 (D0-D7), so the first other marker ends it. Returns the offset
    /// of that marker's FF, or -1 when the data ends first.
    /// </summary>
    private static int SkipEntropyCodedData(ReadOnlySpan<byte> data, int position)
    {
        while (true)
        {
            position = FindMarker(data, position);
            if (position < 0 || data[position + 1] is < 0xD0 or > 0xD7)
            {
                return position;
            }

            position += 2;
        }
    }

    // SOI, TEM and RST0-RST7 carry no length; EOI is handled by the caller.
    private static bool IsStandaloneJpegMarker(byte marker) =>
        marker is JpegStartOfImage or 0x01 or (>= 0xD0 and <= 0xD7);

    private static string JpegMarkerName(byte marker) => marker switch
    {
        0xC4 => "DHT",
        0xCC => "DAC",
        >= 0xC0 and <= 0xCF when marker != 0xC8 => $"SOF{marker - 0xC0}",
        0xDA => "SOS",
        0xDB => "DQT",
        0xDC => "DNL",
        0xDD => "DRI",
        >= 0xE0 and <= 0xEF => $"APP{marker - 0xE0}",
        0xFE => "COM",
        _ => $"FF{marker:X2}",
    };
}

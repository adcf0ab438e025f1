using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Mage.Inference.Imaging;

/// <summary>
/// Turns untrusted encoded bytes (PNG, JPEG, WebP, BMP, GIF) into an upright RGB image, checking
/// <see cref="ImageLimits"/> on the encoded size, the declared dimensions and the frame count
/// before any pixel memory is allocated.
/// </summary>
/// <remarks>
/// Stateless and thread-safe. Every rejection is an <see cref="ImageDecodeException"/>; the
/// caller owns (and disposes) the returned image. GIFs decode their first frame only; EXIF
/// orientation is applied, so the result is the image as a viewer would show it.
/// </remarks>
public static class ImageLoader
{
    private const int CopyChunkBytes = 81920;

    // Shared decoder instances are safe: each decode creates its own decoder core, and these
    // option objects are never mutated after construction.
    private static readonly Dictionary<IImageFormat, IImageDecoder> Decoders = new()
    {
        [PngFormat.Instance] = new PngDecoder(),
        [JpegFormat.Instance] = new JpegDecoder(),
        [WebpFormat.Instance] = new WebpDecoder(),
        [BmpFormat.Instance] = new BmpDecoder(),
        [GifFormat.Instance] = new GifDecoder { DecodingMode = FrameDecodingMode.First },
    };

    /// <summary>The formats <see cref="Load(ReadOnlyMemory{byte}, ImageLimits, string?)"/> accepts, by name.</summary>
    public static IReadOnlyList<string> SupportedFormats { get; } = ["PNG", "JPEG", "WebP", "BMP", "GIF"];

    /// <summary>Decodes an image held in memory. The bytes are not copied when they live in an array.</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="limits">Bounds checked before decoding.</param>
    /// <param name="sourceName">A file or blob name quoted in error messages, if known.</param>
    public static Image<Rgb24> Load(ReadOnlyMemory<byte> data, ImageLimits limits, string? sourceName = null) =>
        LoadCore<Rgb24>(data, limits, sourceName);

    /// <summary>
    /// Reads a stream (at most <see cref="ImageLimits.MaxBytes"/> + 1 bytes of it) and decodes it.
    /// The stream is left open and positioned after what was read.
    /// </summary>
    public static Image<Rgb24> Load(Stream stream, ImageLimits limits, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        var buffer = ReadBounded(stream, limits, sourceName);
        return LoadCore<Rgb24>(buffer, limits, sourceName);
    }

    /// <inheritdoc cref="Load(Stream, ImageLimits, string?)"/>
    public static async Task<Image<Rgb24>> LoadAsync(
        Stream stream,
        ImageLimits limits,
        string? sourceName = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(limits);
        var buffer = await ReadBoundedAsync(stream, limits, sourceName, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return LoadCore<Rgb24>(buffer, limits, sourceName);
    }

    /// <summary>
    /// Checks everything <see cref="Load(ReadOnlyMemory{byte}, ImageLimits, string?)"/> checks before it
    /// decodes (size, format, container, the declared dimensions against <paramref name="limits"/>),
    /// reading headers only: no pixel memory is allocated. A pass does not promise that the pixels decode.
    /// </summary>
    /// <returns>The declared width and height, and the format's MIME type.</returns>
    /// <exception cref="ImageDecodeException">The bytes are empty, too many, not an image, unsupported, or declare too many pixels.</exception>
    public static (int Width, int Height, string MimeType) Inspect(ReadOnlyMemory<byte> data, ImageLimits limits, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var (_, format, info) = Probe(Configuration.Default, data, limits, Subject(sourceName));
        return (info.Width, info.Height, format.DefaultMimeType);
    }

    /// <summary>
    /// The loader itself. <paramref name="configuration"/> (ImageSharp's default when null) supplies
    /// the memory allocator every pixel buffer comes from; tests pass one that counts.
    /// </summary>
    internal static Image<TPixel> LoadCore<TPixel>(ReadOnlyMemory<byte> data, ImageLimits limits, string? sourceName, Configuration? configuration = null)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        configuration ??= Configuration.Default;
        ArgumentNullException.ThrowIfNull(limits);
        var subject = Subject(sourceName);
        var (decoder, format, _) = Probe(configuration, data, limits, subject);

        using var stream = AsReadOnlyStream(data);
        Image<TPixel> image;
        try
        {
            image = Image.Load<TPixel>(configuration, stream, decoder);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw MapDecoderFailure(ex, subject, format);
        }

        try
        {
            image.Mutate(x => x.AutoOrient());
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The checks before decoding (<see cref="Inspect"/>): the decoder, format and header of bytes that pass.</summary>
    private static (IImageDecoder Decoder, IImageFormat Format, IImageInfo Info) Probe(Configuration configuration, ReadOnlyMemory<byte> data, ImageLimits limits, string subject)
    {
        var bytes = data.Span;
        if (bytes.IsEmpty)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Empty, $"{subject} is empty (0 bytes).");
        }

        if (bytes.Length > limits.MaxBytes)
        {
            throw TooManyBytes(subject, $"{bytes.Length} bytes", limits);
        }

        var format = Image.DetectFormat(configuration, bytes);
        if (format is null)
        {
            throw new ImageDecodeException(
                ImageDecodeFailure.NotAnImage,
                $"{subject} ({bytes.Length} bytes) is not in a recognised image format; supported formats are {string.Join(", ", SupportedFormats)}.");
        }

        if (!Decoders.TryGetValue(format, out var decoder))
        {
            throw Unsupported(subject, format.Name);
        }

        CheckContainer(format, bytes, limits, subject);

        using var stream = AsReadOnlyStream(data);
        var info = Identify(configuration, decoder, stream, subject, format);
        CheckDimensions(info.Width, info.Height, limits, subject);
        return (decoder, format, info);
    }

    private static void CheckContainer(IImageFormat format, ReadOnlySpan<byte> bytes, ImageLimits limits, string subject)
    {
        if (format == GifFormat.Instance)
        {
            var frames = ContainerProbe.CountGifFrames(bytes, limits.MaxFrames);
            if (frames > limits.MaxFrames)
            {
                throw TooManyFrames(subject, "GIF", frames, limits);
            }
        }
        else if (format == WebpFormat.Instance)
        {
            var (animated, frames) = ContainerProbe.ProbeWebp(bytes, limits.MaxFrames);
            if (frames > limits.MaxFrames)
            {
                throw TooManyFrames(subject, "WebP", frames, limits);
            }

            if (animated)
            {
                // ImageSharp 2.1 cannot decode animated WebP; say so plainly rather than as "corrupt".
                throw new ImageDecodeException(
                    ImageDecodeFailure.Unsupported,
                    $"{subject} is an animated WebP ({frames} frames); animated WebP is not supported. Supported formats are {string.Join(", ", SupportedFormats)} (GIF: first frame).");
            }
        }
        else if (format == JpegFormat.Instance && !limits.AllowTruncatedJpeg)
        {
            // ImageSharp 2.1 decodes a truncated JPEG without complaint: the rows it has no data
            // for come out black, and a progressive JPEG cut between scans comes out blurred.
            var truncation = ContainerProbe.FindJpegTruncation(bytes);
            if (truncation is not null)
            {
                throw new ImageDecodeException(
                    ImageDecodeFailure.Corrupt,
                    $"{subject} is a truncated JPEG ({bytes.Length} bytes): {truncation}; decoded, the missing part would come out black or blurred. Accepting such files is an opt-in (the service's Mage__Limits__AllowTruncatedJpeg, mage's --allow-truncated-jpeg).");
            }
        }
        else if (format == PngFormat.Instance)
        {
            var truncation = ContainerProbe.FindPngTruncation(bytes);
            if (truncation is not null)
            {
                throw new ImageDecodeException(
                    ImageDecodeFailure.Corrupt,
                    $"{subject} is a truncated PNG ({bytes.Length} bytes): {truncation}.");
            }
        }
    }

    private static IImageInfo Identify(Configuration configuration, IImageDecoder decoder, Stream stream, string subject, IImageFormat format)
    {
        try
        {
            // Reads headers only; no pixel buffers are allocated.
            var info = ((IImageInfoDetector)decoder).Identify(configuration, stream, CancellationToken.None);
            return info ?? throw new ImageDecodeException(
                ImageDecodeFailure.Corrupt,
                $"{subject} looks like {format.Name} but its header could not be read.");
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            throw MapDecoderFailure(ex, subject, format);
        }
    }

    internal static void CheckDimensions(int width, int height, ImageLimits limits, string subject)
    {
        var pixels = (long)width * height;
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException(
                ImageDecodeFailure.Corrupt,
                $"{subject} declares a size of {width}x{height}; both sides must be positive.");
        }

        if (pixels > limits.MaxPixels)
        {
            throw new ImageDecodeException(
                ImageDecodeFailure.TooLarge,
                $"{subject} is {width}x{height} = {pixels} pixels; the limit is {limits.MaxPixels} pixels (ImageLimits.MaxPixels).");
        }

        if (width > limits.MaxDimension || height > limits.MaxDimension)
        {
            throw new ImageDecodeException(
                ImageDecodeFailure.TooLarge,
                $"{subject} is {width}x{height}; the limit is {limits.MaxDimension} pixels a side (ImageLimits.MaxDimension).");
        }
    }

    // Decoders fail on hostile input with a zoo of exception types (ImageFormatException and its
    // subclasses, but also EndOfStream, IndexOutOfRange, Overflow, InvalidData). All of them mean
    // "these bytes are damaged"; only cancellation and process-level failures pass through.
    private static bool IsDecoderFailure(Exception ex) =>
        ex is not (ImageDecodeException or OperationCanceledException or OutOfMemoryException);

    private static ImageDecodeException MapDecoderFailure(Exception ex, string subject, IImageFormat format) => ex switch
    {
        InvalidMemoryOperationException => new ImageDecodeException(
            ImageDecodeFailure.TooLarge,
            $"{subject} ({format.Name}) needs more memory to decode than the image allocator allows: {ex.Message}",
            ex),
        NotSupportedException => new ImageDecodeException(
            ImageDecodeFailure.Unsupported,
            $"{subject} uses a {format.Name} feature that is not supported: {ex.Message}",
            ex),
        _ => new ImageDecodeException(
            ImageDecodeFailure.Corrupt,
            $"{subject} could not be decoded as {format.Name}: {ex.Message}",
            ex),
    };

    private static ImageDecodeException Unsupported(string subject, string formatName) => new(
        ImageDecodeFailure.Unsupported,
        $"{subject} is {formatName}, which is not supported; supported formats are {string.Join(", ", SupportedFormats)}.");

    private static ImageDecodeException TooManyBytes(string subject, string size, ImageLimits limits) => new(
        ImageDecodeFailure.TooLarge,
        $"{subject} is {size}; the limit is {limits.MaxBytes} bytes (ImageLimits.MaxBytes).");

    private static ImageDecodeException TooManyFrames(string subject, string format, int frames, ImageLimits limits) => new(
        ImageDecodeFailure.TooLarge,
        $"{subject} is a {format} with {(frames > limits.MaxFrames ? "more than " + limits.MaxFrames : frames.ToString(System.Globalization.CultureInfo.InvariantCulture))} frames; the limit is {limits.MaxFrames} frames (ImageLimits.MaxFrames).");

    internal static string Subject(string? sourceName) =>
        string.IsNullOrEmpty(sourceName) ? "Image" : $"Image '{sourceName}'";

    private static MemoryStream AsReadOnlyStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private static ReadOnlyMemory<byte> ReadBounded(Stream stream, ImageLimits limits, string? sourceName)
    {
        using var buffer = CreateBuffer(stream, limits, sourceName);
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunkBytes);
        try
        {
            int read;
            while ((read = stream.Read(chunk, 0, NextReadLength(chunk, buffer, limits))) > 0)
            {
                Append(buffer, chunk, read, limits, sourceName);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(
        Stream stream,
        ImageLimits limits,
        string? sourceName,
        CancellationToken cancellationToken)
    {
        using var buffer = CreateBuffer(stream, limits, sourceName);
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunkBytes);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk.AsMemory(0, NextReadLength(chunk, buffer, limits)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                Append(buffer, chunk, read, limits, sourceName);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>Reads at most one byte past the limit, so an oversized stream is caught without reading it all.</summary>
    private static int NextReadLength(byte[] chunk, MemoryStream buffer, ImageLimits limits) =>
        (int)Math.Min(chunk.Length, limits.MaxBytes + 1 - buffer.Length);

    private static void Append(MemoryStream buffer, byte[] chunk, int read, ImageLimits limits, string? sourceName)
    {
        buffer.Write(chunk, 0, read);
        if (buffer.Length > limits.MaxBytes)
        {
            throw TooManyBytes(Subject(sourceName), $"more than {limits.MaxBytes} bytes", limits);
        }
    }

    private static MemoryStream CreateBuffer(Stream stream, ImageLimits limits, string? sourceName)
    {
        if (!stream.CanSeek)
        {
            return new MemoryStream();
        }

        // A seekable stream tells us its size, so an oversized input is refused without reading it.
        var remaining = Math.Max(0, stream.Length - stream.Position);
        if (remaining > limits.MaxBytes)
        {
            throw TooManyBytes(Subject(sourceName), $"{remaining} bytes", limits);
        }

        return new MemoryStream((int)remaining);
    }
}

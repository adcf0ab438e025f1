using System.Net;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Mage.Jobs.Http;

/// <summary>
/// The parts of <c>POST /api/edits</c> sent as <c>multipart/form-data</c>: <see cref="RequestPart"/>
/// (the edit message as JSON, without source, mask and output), <see cref="ImagePart"/> and, optionally,
/// <see cref="MaskPart"/>, each part's bytes as sent. <see cref="ReadAsync"/> reads a body under its caps
/// and never more than the body cap + 1 bytes; every refusal is an <see cref="EditFormException"/> naming the part.
/// </summary>
/// <param name="Request">The request part, as text (a leading UTF-8 byte order mark dropped).</param>
/// <param name="Image">The image part's bytes.</param>
/// <param name="Mask">The mask part's bytes, or null when there is none.</param>
internal sealed record EditForm(string Request, byte[] Image, byte[]? Mask)
{
    /// <summary>The part holding the edit message (JSON).</summary>
    public const string RequestPart = "request";

    /// <summary>The part holding the image to edit.</summary>
    public const string ImagePart = "image";

    /// <summary>The part holding the inpainting mask.</summary>
    public const string MaskPart = "mask";

    /// <summary>The media type of a form body.</summary>
    public const string MediaType = "multipart/form-data";

    private static readonly string[] Parts = [RequestPart, ImagePart, MaskPart];

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads the parts of <paramref name="body"/>, a <c>multipart/form-data</c> body of <paramref name="contentType"/>'s
    /// boundary: at most <paramref name="maxBodyBytes"/> in all, <paramref name="maxRequestBytes"/> for the request part and
    /// <paramref name="maxImageBytes"/> for each image. A part over its cap ends the reading there.
    /// </summary>
    /// <exception cref="EditFormException">400 for a body that is not such a form (no boundary, a part unknown, unnamed,
    /// sent twice or missing, a request that is not UTF-8); 413 for a body or part over its cap.</exception>
    public static async Task<EditForm> ReadAsync(Stream body, MediaTypeHeaderValue contentType, int maxBodyBytes, int maxRequestBytes, long maxImageBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(contentType);
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 70)
        {
            throw Refused(HttpStatusCode.BadRequest, "Content-Type", $"Content-Type {MediaType} needs a boundary of 1-70 characters (RFC 2046); send the body as a form (curl -F, the browser's FormData).");
        }

        var capped = new CappedStream(body, maxBodyBytes);
        var reader = new MultipartReader(boundary, capped);
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is { } section)
            {
                var name = PartName(section);
                if (!parts.TryAdd(name, []))
                {
                    throw Refused(HttpStatusCode.BadRequest, name, $"{name} is sent twice; send each part once.");
                }

                var cap = name == RequestPart ? maxRequestBytes : Math.Min(maxImageBytes, maxBodyBytes);
                parts[name] = await ReadPartAsync(section.Body, name, cap, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // The capped view reads as ended past the cap, which the reader reports as a body cut short.
            throw capped.Exceeded ? TooLarge(maxBodyBytes, e) : Refused(HttpStatusCode.BadRequest, null, $"The body is not a whole {MediaType} body: {e.Message}", e);
        }

        if (capped.Exceeded)
        {
            throw TooLarge(maxBodyBytes, null);
        }

        var request = parts.GetValueOrDefault(RequestPart) ?? throw Refused(HttpStatusCode.BadRequest, RequestPart, $"{RequestPart} is missing: a {MediaType} edit needs a {RequestPart} part, the edit message as JSON without source, mask and output.");
        var image = parts.GetValueOrDefault(ImagePart) ?? throw Refused(HttpStatusCode.BadRequest, ImagePart, $"{ImagePart} is missing: a {MediaType} edit needs an {ImagePart} part, the image file to edit.");
        return new EditForm(Text(request), image, parts.GetValueOrDefault(MaskPart));
    }

    /// <summary>The form-data name of <paramref name="section"/>, one of <see cref="Parts"/>.</summary>
    private static string PartName(MultipartSection section)
    {
        if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
            !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase) ||
            HeaderUtilities.RemoveQuotes(disposition.Name).Value is not { Length: > 0 } name)
        {
            throw Refused(HttpStatusCode.BadRequest, null, $"A part has no Content-Disposition form-data name; the parts are {string.Join(", ", Parts)}.");
        }

        return Parts.FirstOrDefault(p => p == name) ??
            throw Refused(HttpStatusCode.BadRequest, Shorten(name), $"{Shorten(name)} is not a part of an edit; the parts are {string.Join(", ", Parts)}.");
    }

    /// <summary>The part's bytes; reading stops at <paramref name="cap"/> + 1.</summary>
    private static async Task<byte[]> ReadPartAsync(Stream part, string name, long cap, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await part.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, cap + 1 - buffer.Length)), cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > cap)
            {
                throw Refused(HttpStatusCode.RequestEntityTooLarge, name, $"{name} is larger than {cap} bytes.");
            }
        }

        return buffer.ToArray();
    }

    private static string Text(byte[] request)
    {
        var preamble = Encoding.UTF8.Preamble;
        var start = request.AsSpan().StartsWith(preamble) ? preamble.Length : 0;
        try
        {
            return Utf8.GetString(request, start, request.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            throw Refused(HttpStatusCode.BadRequest, RequestPart, $"{RequestPart} is not UTF-8 text: {e.Message}", e);
        }
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    private static EditFormException TooLarge(int maxBodyBytes, Exception? inner) =>
        new(HttpStatusCode.RequestEntityTooLarge, $"The edit is larger than {maxBodyBytes} bytes.", null, inner);

    private static EditFormException Refused(HttpStatusCode status, string? field, string message, Exception? inner = null) => new(status, message, field, inner);

    /// <summary>
    /// A read-only view of a stream that passes on at most <c>cap</c> + 1 bytes, then reads as ended;
    /// <see cref="Exceeded"/> says whether the body went past <c>cap</c>.
    /// </summary>
    private sealed class CappedStream(Stream inner, long cap) : Stream
    {
        private long total;

        public bool Exceeded => total > cap;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => total;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, Allowed(count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Allowed(int count) => (int)Math.Min(count, cap + 1 - total);

        private int Count(int read)
        {
            total += read;
            return read;
        }
    }
}

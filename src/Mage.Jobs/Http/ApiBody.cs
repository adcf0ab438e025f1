using System.Globalization;
using System.Text;

namespace Mage.Jobs.Http;

/// <summary>Reads an HTTP request body under a cap, never holding more than the cap. Stateless and thread-safe.</summary>
internal static class ApiBody
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// The body as text, or null when it is larger than <paramref name="maxBytes"/>: its
    /// Content-Length says so (then nothing is read), or more than <paramref name="maxBytes"/> bytes
    /// arrive (then reading stops at <paramref name="maxBytes"/> + 1). A leading UTF-8 byte order mark is dropped.
    /// </summary>
    public static async Task<string?> ReadAsync(Stream body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        if (DeclaredLength(headers) > maxBytes)
        {
            return null;
        }

        var buffer = new byte[maxBytes + 1];
        var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read > maxBytes)
        {
            return null;
        }

        var preamble = Encoding.UTF8.Preamble;
        var start = buffer.AsSpan(0, read).StartsWith(preamble) ? preamble.Length : 0;
        return Utf8.GetString(buffer, start, read - start);
    }

    /// <summary>The Content-Length header, or null when it is absent or not one whole number (then only the read is capped).</summary>
    public static long? DeclaredLength(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
    {
        var values = RequestHeaders.Values(headers, "Content-Length");
        return values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : null;
    }
}

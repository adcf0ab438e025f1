using System.Collections.Frozen;
using System.Net;

namespace Mage.Jobs.Http.Studio;

/// <summary>
/// The studio: a plain HTML, CSS and JavaScript page over the HTTP API (<c>Http/Studio/*</c>, embedded
/// in this assembly), served at <c>GET /</c> (the page) and <c>GET /studio/{name}</c> by the Functions
/// app and <c>mage serve</c>. Every file goes out with a Content-Security-Policy that allows only the
/// app's own origin (and <c>blob:</c>/<c>data:</c> images, for results fetched with a function key)
/// and <c>X-Content-Type-Options: nosniff</c>. These routes are not API routes: they need no function
/// key, and the OpenAPI document does not list them.
/// </summary>
/// <remarks>Stateless; thread-safe. Each answer opens its own resource stream.</remarks>
public static class StudioFiles
{
    /// <summary>The route of the page, without the leading slash: the app's root.</summary>
    public const string PageRoute = "";

    /// <summary>The route of every studio file, without the leading slash.</summary>
    public const string FileRoute = "studio/{name}";

    /// <summary>The page's file name, answered at <see cref="PageRoute"/> (and under <see cref="FileRoute"/>).</summary>
    public const string Page = "index.html";

    private const string ResourcePrefix = "Mage.Jobs.Http.Studio.";

    /// <summary>Every file the studio has and its Content-Type; no other name is answered.</summary>
    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Page] = "text/html; charset=utf-8",
        ["studio.css"] = "text/css; charset=utf-8",
        ["studio.js"] = "text/javascript; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The headers of every studio answer, found or not.</summary>
    private static readonly KeyValuePair<string, string>[] SafeHeaders =
    [
        new("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
        new("X-Content-Type-Options", "nosniff"),
        new("Referrer-Policy", "no-referrer"),
        // A redeployed page is fetched again rather than mixed with a cached script of the old one.
        new("Cache-Control", "no-cache"),
    ];

    /// <summary>The file names the studio serves, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ContentTypes.Keys.Order(StringComparer.Ordinal)];

    /// <summary>
    /// The 200 answer streaming the file <paramref name="name"/> (one of <see cref="Names"/>, compared
    /// ordinally), or 404 for any other name.
    /// </summary>
    public static ApiResult Answer(string? name, string correlationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        if (name is null || !ContentTypes.TryGetValue(name, out var contentType))
        {
            return ApiResult.Error(HttpStatusCode.NotFound, $"No such studio file; the studio has {string.Join(", ", Names)}.", correlationId) with { ExtraHeaders = SafeHeaders };
        }

        var content = typeof(StudioFiles).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The assembly has no resource {ResourcePrefix}{name}; the build embeds Http/Studio/{name}.");
        return new ApiResult(HttpStatusCode.OK, new ApiFile(content, contentType, content.Length), correlationId) { ExtraHeaders = SafeHeaders };
    }
}

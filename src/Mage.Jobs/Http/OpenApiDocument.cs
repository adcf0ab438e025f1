using System.Net;
using System.Text.Json;

namespace Mage.Jobs.Http;

/// <summary>
/// The OpenAPI 3 document of the HTTP API (<c>Http/openapi.json</c>, embedded in this assembly),
/// served at <c>GET /api/openapi.json</c> by the Functions app and <c>mage serve</c>. Tests hold it to
/// the routes each host maps, so a route without an entry fails them.
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
public static class OpenApiDocument
{
    /// <summary>The route under <c>/api/</c>.</summary>
    public const string Route = "openapi.json";

    private const string ResourceName = "Mage.Jobs.Http.openapi.json";

    /// <summary>The document, parsed once.</summary>
    public static JsonElement Document { get; } = Load();

    /// <summary>The 200 answer carrying <see cref="Document"/>.</summary>
    public static ApiResult Answer(string correlationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        return new ApiResult(HttpStatusCode.OK, Document, correlationId);
    }

    private static JsonElement Load()
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The assembly has no resource {ResourceName}; the build embeds Http/openapi.json.");
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.Clone();
    }
}

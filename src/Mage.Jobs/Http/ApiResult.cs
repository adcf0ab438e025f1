using System.Net;
using System.Text.Json;

namespace Mage.Jobs.Http;

/// <summary>
/// An HTTP answer: status code, a JSON-serializable body, and the correlation id the answer and the
/// service's log lines about it share (the <c>x-correlation-id</c> response header). Every answer
/// that is not a success is built by <see cref="Error"/>.
/// </summary>
public sealed record ApiResult(HttpStatusCode Status, object Body, string CorrelationId, string? Location = null)
{
    /// <summary>The response header that carries <see cref="CorrelationId"/>.</summary>
    public const string CorrelationHeader = "x-correlation-id";

    /// <summary>The Content-Type of a JSON answer that is not an <see cref="ApiProblem"/>.</summary>
    public const string ContentType = "application/json; charset=utf-8";

    /// <summary>
    /// The Functions worker's default serializer settings (no naming policy, the default encoder),
    /// which the app's answers have always been written with: every host writes the same bytes.
    /// </summary>
    private static readonly JsonSerializerOptions BodyJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>
    /// Headers written after the ones every answer has, as they are (a studio file's
    /// <c>Content-Security-Policy</c>, say); none by default.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHeaders { get; init; } = [];

    /// <summary>
    /// The answer's headers, for any host to add as they are: Content-Type, <see cref="CorrelationHeader"/>
    /// and, for an accepted job, <c>Location</c>: <see cref="Location"/> under <c>/api/</c> on the
    /// scheme, host and port of <paramref name="requestUrl"/>; then <see cref="ExtraHeaders"/>.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> Headers(Uri requestUrl)
    {
        ArgumentNullException.ThrowIfNull(requestUrl);
        yield return new("Content-Type", Body switch
        {
            ApiFile file => file.ContentType,
            ApiProblem => ApiProblem.ContentType,
            _ => ContentType,
        });
        yield return new(CorrelationHeader, CorrelationId);
        if (Location is not null)
        {
            yield return new("Location", new Uri(requestUrl, "/api/" + Location).ToString());
        }

        foreach (var header in ExtraHeaders)
        {
            yield return header;
        }
    }

    /// <summary>
    /// Writes <see cref="Body"/> to <paramref name="body"/>: an <see cref="ApiFile"/>'s bytes as they are
    /// (then disposes its stream), anything else as JSON (UTF-8, no byte order mark).
    /// </summary>
    public async Task WriteBodyAsync(Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Body is ApiFile file)
        {
            await using (file.Content.ConfigureAwait(false))
            {
                await file.Content.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        await JsonSerializer.SerializeAsync(body, Body, Body.GetType(), BodyJson, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A refusal or failure: an <see cref="ApiProblem"/> body (<c>application/problem+json</c>).
    /// <paramref name="detail"/> names only the request's own fields and what the caller can do; what
    /// the service knows about its own storage goes to the log under the same correlation id.
    /// <paramref name="field"/> is the request member the problem is about, when there is one.
    /// </summary>
    public static ApiResult Error(HttpStatusCode status, string detail, string correlationId, string? field = null) =>
        new(status, ApiProblem.Of(status, detail, correlationId, field), correlationId);
}

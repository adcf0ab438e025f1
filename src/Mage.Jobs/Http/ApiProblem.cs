using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Mage.Jobs.Http;

/// <summary>
/// The body of every HTTP answer that is not a success: an RFC 9457 problem details object
/// (<c>application/problem+json</c>) with two extension members, <see cref="Field"/> and
/// <see cref="CorrelationId"/>. The names are fixed here because the Functions worker's serializer
/// has no naming policy.
/// </summary>
/// <param name="Type">Always <c>about:blank</c>: the status code says what kind of problem it is.</param>
/// <param name="Title">The status code's reason phrase, as RFC 9457 asks for <c>about:blank</c>.</param>
/// <param name="Status">The status code, repeated in the body.</param>
/// <param name="Detail">What was wrong with this request and what the caller can do, in the request's own terms.</param>
/// <param name="Field">
/// The member of the request the problem is about (<c>source.container</c>, <c>boxes[2]</c>, a form
/// part such as <c>image</c>, a query parameter such as <c>limit</c>), or null when it is about the
/// request as a whole (its size, its credentials, the service's storage).
/// </param>
/// <param name="CorrelationId">The id the answer's <c>x-correlation-id</c> header and the service's log lines share.</param>
public sealed partial record ApiProblem(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("field"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field,
    [property: JsonPropertyName("correlationId")] string CorrelationId)
{
    /// <summary>The Content-Type of a problem's body.</summary>
    public const string ContentType = "application/problem+json; charset=utf-8";

    /// <summary>A problem with <paramref name="status"/>: <see cref="Type"/> <c>about:blank</c>, the status's reason phrase as <see cref="Title"/>.</summary>
    public static ApiProblem Of(HttpStatusCode status, string detail, string correlationId, string? field = null) =>
        new("about:blank", ReasonPhrase(status), (int)status, detail, field, correlationId);

    /// <summary>
    /// The member of a <typeparamref name="TMessage"/> that <paramref name="detail"/> names first, when
    /// it starts with one: the validation messages of the job and request messages begin with the
    /// member they refuse (<c>source.container 'X' is not …</c>, <c>boxes[1] must …</c>), and so does
    /// what follows "The body is not valid: " in a deserialization error (<see cref="Vocabulary.MessageJson.NotValid"/>).
    /// Null when the first word is not one of the message's members (a rule about several, such as
    /// "exactly one of mask and boxes", names no single field).
    /// </summary>
    public static string? LeadingField<TMessage>(string detail)
    {
        ArgumentNullException.ThrowIfNull(detail);
        var notValid = detail.StartsWith("The ", StringComparison.Ordinal) ? detail.IndexOf(Vocabulary.MessageJson.NotValid, StringComparison.Ordinal) : -1;
        var match = LeadingPath().Match(notValid < 0 ? detail : detail[(notValid + Vocabulary.MessageJson.NotValid.Length)..]);
        return match.Success && Members<TMessage>.Names.Contains(match.Groups["member"].Value) ? match.Groups["path"].Value : null;
    }

    /// <summary>The standard reason phrase of <paramref name="status"/> ("Content Too Large" for 413, as RFC 9110 names it).</summary>
    private static string ReasonPhrase(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => "Bad Request",
        HttpStatusCode.Unauthorized => "Unauthorized",
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.Conflict => "Conflict",
        HttpStatusCode.RequestEntityTooLarge => "Content Too Large",
        HttpStatusCode.UnsupportedMediaType => "Unsupported Media Type",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        HttpStatusCode.GatewayTimeout => "Gateway Timeout",
        _ => status.ToString(),
    };

    /// <summary>A member path at the start of a sentence: a name, then any <c>.name</c> and <c>[n]</c> steps, then a space, colon or quote.</summary>
    [GeneratedRegex(@"^(?<path>(?<member>[a-z][A-Za-z0-9]*)(?:\.[a-z][A-Za-z0-9]*|\[\d+\])*)(?=[\s:,'])", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingPath();

    /// <summary>The JSON member names of <typeparamref name="T"/> as callers write them (camelCase), read once.</summary>
    private static class Members<T>
    {
        public static readonly HashSet<string> Names = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .ToHashSet(StringComparer.Ordinal);
    }
}

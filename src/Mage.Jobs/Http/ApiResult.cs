using System.Net;

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

    /// <summary>
    /// A refusal or failure: body <c>{ "error": ..., "correlationId": ... }</c>. <paramref name="error"/>
    /// names only the request's own fields and what the caller can do; what the service knows about
    /// its own storage goes to the log under the same correlation id.
    /// </summary>
    public static ApiResult Error(HttpStatusCode status, string error, string correlationId) =>
        new(status, new ApiError(error, correlationId), correlationId);
}

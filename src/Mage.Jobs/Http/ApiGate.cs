using System.Net;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.Http;

/// <summary>What every HTTP service does first: name the caller, and bound its storage calls. Stateless and thread-safe.</summary>
internal static partial class ApiGate
{
    /// <summary>
    /// The caller <paramref name="headers"/> name (<see cref="ApiCaller.FromHeaders"/>), or null and the
    /// 401 in <paramref name="refused"/>, its reason logged under <paramref name="correlationId"/>.
    /// </summary>
    public static ApiCaller? Identify(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, bool trustAuthHeaders, string correlationId, ILogger logger, out ApiResult? refused)
    {
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        var caller = ApiCaller.FromHeaders(headers, trustAuthHeaders, out var problem);
        refused = null;
        if (caller is null)
        {
            LogRefusedCaller(logger, correlationId, problem!);
            refused = ApiResult.Error(HttpStatusCode.Unauthorized, problem!, correlationId);
        }

        return caller;
    }

    /// <summary>A token that fires when the caller gives up or after <paramref name="timeout"/>, whichever comes first.</summary>
    public static CancellationTokenSource Deadline(CancellationToken cancellationToken, TimeSpan timeout)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a request's caller headers (correlation id {CorrelationId}): {Problem}")]
    private static partial void LogRefusedCaller(ILogger logger, string correlationId, string problem);
}

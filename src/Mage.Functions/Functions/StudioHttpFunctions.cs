using Mage.Jobs.Http.Studio;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>
/// The studio page at the app's root and its files (adapters over <see cref="StudioFiles"/>). Anonymous:
/// the files hold no data, and the page sends the function key the user types to the API routes, which
/// need it. host.json's empty route prefix is what lets a function answer <c>/</c>.
/// </summary>
public sealed class StudioHttpFunctions
{
    /// <summary>
    /// <c>GET /</c>: a route that matches only the empty path (an optional parameter of length 0), since a
    /// function's route cannot be empty.
    /// </summary>
    [Function("StudioPage")]
    public Task<HttpResponseData> Page(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "{ignored:maxlength(0)?}")] HttpRequestData request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApiResponses.RespondAsync(request, StudioFiles.Answer(StudioFiles.Page, request.FunctionContext.InvocationId), cancellationToken);
    }

    [Function("StudioFile")]
    public Task<HttpResponseData> File(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = StudioFiles.FileRoute)] HttpRequestData request, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApiResponses.RespondAsync(request, StudioFiles.Answer(name, request.FunctionContext.InvocationId), cancellationToken);
    }
}

using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>The HTTP API's reading endpoints beside the job's own: the caller's job list, the API's OpenAPI document.</summary>
public sealed class ApiHttpFunctions(JobApiService api)
{
    [Function("ListJobs")]
    public async Task<HttpResponseData> ListJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/jobs")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.ListHttpAsync(request.Query["limit"], request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    [Function("OpenApi")]
    public Task<HttpResponseData> OpenApi(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/" + OpenApiDocument.Route)] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApiResponses.RespondAsync(request, OpenApiDocument.Answer(request.FunctionContext.InvocationId), cancellationToken);
    }
}

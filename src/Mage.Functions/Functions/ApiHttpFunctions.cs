using Mage.Jobs.BulkJobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>The HTTP API's reading endpoints beside the job's own: the caller's job list.</summary>
public sealed class ApiHttpFunctions(JobApiService api)
{
    [Function("ListJobs")]
    public async Task<HttpResponseData> ListJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.ListHttpAsync(request.Query["limit"], request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await JobFunctions.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }
}

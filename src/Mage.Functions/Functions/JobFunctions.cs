using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>Bulk embedding jobs: submit (queue or HTTP), shards, status.</summary>
public sealed class JobFunctions(SubmitJobService submit, ProcessShardService shards, JobApiService api)
{
    [Function("SubmitJob")]
    public Task SubmitJob(
        [QueueTrigger("%Mage:Storage:JobsQueue%", Connection = "MageStorage")] string message,
        CancellationToken cancellationToken) =>
        submit.SubmitAsync(message, cancellationToken);

    [Function("ProcessShard")]
    public Task ProcessShard(
        [QueueTrigger("%Mage:Storage:ShardsQueue%", Connection = "MageStorage")] string message,
        CancellationToken cancellationToken) =>
        shards.ProcessAsync(message, cancellationToken: cancellationToken);

    [Function("JobStatus")]
    public async Task<HttpResponseData> JobStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{jobId}")] HttpRequestData request,
        string jobId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.GetStatusHttpAsync(jobId, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    [Function("SubmitJobHttp")]
    public async Task<HttpResponseData> SubmitJobHttp(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.SubmitHttpAsync(request.Body, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="result"/> as every HTTP function of the app answers: status, <see cref="ApiResult.Headers"/>, body.</summary>
    internal static async Task<HttpResponseData> RespondAsync(HttpRequestData request, ApiResult result, CancellationToken cancellationToken)
    {
        var response = request.CreateResponse(result.Status);
        foreach (var (name, value) in result.Headers(request.Url))
        {
            response.Headers.Add(name, value);
        }

        await result.WriteBodyAsync(response.Body, cancellationToken).ConfigureAwait(false);
        return response;
    }
}

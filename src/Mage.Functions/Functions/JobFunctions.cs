using Mage.Jobs.BulkJobs;
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
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/jobs/{jobId}")] HttpRequestData request,
        string jobId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.GetStatusHttpAsync(jobId, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    [Function("SubmitJobHttp")]
    public async Task<HttpResponseData> SubmitJobHttp(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/jobs")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.SubmitHttpAsync(request.Body, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }
}

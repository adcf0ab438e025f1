using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>Edits and generations over HTTP: submit, status, result files (adapters over <see cref="RequestApiService"/>).</summary>
public sealed class RequestHttpFunctions(RequestApiService api)
{
    [Function("SubmitEditHttp")]
    public Task<HttpResponseData> SubmitEdit(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/edits")] HttpRequestData request, CancellationToken cancellationToken) =>
        SubmitAsync(WorkQueue.Edits, request, cancellationToken);

    [Function("EditStatus")]
    public Task<HttpResponseData> EditStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/edits/{requestId}")] HttpRequestData request, string requestId, CancellationToken cancellationToken) =>
        StatusAsync(WorkQueue.Edits, request, requestId, cancellationToken);

    [Function("EditFile")]
    public Task<HttpResponseData> EditFile(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/edits/{requestId}/files/{name}")] HttpRequestData request, string requestId, string name, CancellationToken cancellationToken) =>
        FileAsync(WorkQueue.Edits, request, requestId, name, cancellationToken);

    [Function("SubmitGenerationHttp")]
    public Task<HttpResponseData> SubmitGeneration(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/generations")] HttpRequestData request, CancellationToken cancellationToken) =>
        SubmitAsync(WorkQueue.Generate, request, cancellationToken);

    [Function("GenerationStatus")]
    public Task<HttpResponseData> GenerationStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/generations/{requestId}")] HttpRequestData request, string requestId, CancellationToken cancellationToken) =>
        StatusAsync(WorkQueue.Generate, request, requestId, cancellationToken);

    [Function("GenerationFile")]
    public Task<HttpResponseData> GenerationFile(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/generations/{requestId}/files/{name}")] HttpRequestData request, string requestId, string name, CancellationToken cancellationToken) =>
        FileAsync(WorkQueue.Generate, request, requestId, name, cancellationToken);

    private async Task<HttpResponseData> SubmitAsync(WorkQueue queue, HttpRequestData request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.SubmitHttpAsync(queue, request.Body, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseData> StatusAsync(WorkQueue queue, HttpRequestData request, string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.GetStatusHttpAsync(queue, requestId, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseData> FileAsync(WorkQueue queue, HttpRequestData request, string requestId, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.GetFileHttpAsync(queue, requestId, name, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }
}

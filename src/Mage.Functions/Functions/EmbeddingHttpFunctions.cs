using Mage.Jobs.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>Synchronous embeddings over HTTP (an adapter over <see cref="EmbeddingApiService"/>).</summary>
public sealed class EmbeddingHttpFunctions(EmbeddingApiService api)
{
    [Function("EmbedHttp")]
    public async Task<HttpResponseData> Embed(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/embeddings")] HttpRequestData request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await api.EmbedHttpAsync(request.Body, request.Headers, request.FunctionContext.InvocationId, cancellationToken).ConfigureAwait(false);
        return await ApiResponses.RespondAsync(request, result, cancellationToken).ConfigureAwait(false);
    }
}

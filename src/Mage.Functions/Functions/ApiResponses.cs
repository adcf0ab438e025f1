using Mage.Jobs.Http;
using Microsoft.Azure.Functions.Worker.Http;

namespace Mage.Functions.Functions;

/// <summary>Writes an <see cref="ApiResult"/> as every HTTP function answers: status, <see cref="ApiResult.Headers"/>, then the body.</summary>
internal static class ApiResponses
{
    public static async Task<HttpResponseData> RespondAsync(HttpRequestData request, ApiResult result, CancellationToken cancellationToken)
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

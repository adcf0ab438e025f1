using Mage.Cli.Serve;
using Mage.Cli.Worker;
using Mage.Jobs.Http;
using Mage.Jobs.Http.Studio;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Tests.Serve;

/// <summary>
/// The OpenAPI document (<see cref="OpenApiDocument"/>) lists exactly the API routes <c>mage serve</c>
/// maps (<see cref="ApiServer.Build"/>'s endpoint data sources; every route but the studio's, which
/// are pages, not API): a new route without a document entry, or an entry for a route nobody serves, fails here.
/// </summary>
public sealed class OpenApiRoutesTests
{
    [Fact]
    public async Task The_document_lists_exactly_the_api_routes_mage_serve_maps()
    {
        using var host = JobsHost.Create(new Dictionary<string, string?> { ["MageStorage"] = "UseDevelopmentStorage=true" }, TextWriter.Null, LogLevel.None);
        await using var app = ApiServer.Build("http://127.0.0.1:0", host.Services, TextWriter.Null, LogLevel.None);

        var mapped = ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods
                .Select(method => $"{method.ToUpperInvariant()} {endpoint.RoutePattern.RawText}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        string[] studio = ["GET /" + StudioFiles.PageRoute, "GET /" + StudioFiles.FileRoute];
        Assert.All(studio, route => Assert.Contains(route, mapped));
        Assert.Equal(Documented(), mapped.Except(studio));
    }

    [Fact]
    public void The_answer_is_the_document_itself()
    {
        var answer = OpenApiDocument.Answer("c");

        Assert.Equal(System.Net.HttpStatusCode.OK, answer.Status);
        Assert.Equal("3.0.3", OpenApiDocument.Document.GetProperty("openapi").GetString());
        Assert.Equal(OpenApiDocument.Document.GetRawText(), ((System.Text.Json.JsonElement)answer.Body).GetRawText());
    }

    /// <summary>Every operation of the document as <c>METHOD /path</c>, sorted.</summary>
    internal static IEnumerable<string> Documented() =>
        OpenApiDocument.Document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))
            .Order(StringComparer.Ordinal);
}

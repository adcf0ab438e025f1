using System.Net;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Mage.Jobs.Http.Studio;
using Mage.Jobs.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Serve;

/// <summary>
/// <c>mage serve</c>'s HTTP host: the Functions app's HTTP API (jobs, edits, generations, the
/// OpenAPI document, synchronous embeddings) and the studio page on Kestrel, each route a thin adapter over its Mage.Jobs service that writes
/// the <see cref="ApiResult"/> as the Functions adapter does (same status, headers and body bytes),
/// plus <c>GET /api/health</c>. No function keys: callers are identified from the
/// headers alone (<see cref="ApiCaller.FromHeaders"/>).
/// </summary>
internal static partial class ApiServer
{
    /// <summary>
    /// A web application listening on <paramref name="urls"/> (Kestrel's <c>;</c>-separated list),
    /// not started. The caller owns it; the command line, not the host, handles SIGINT and SIGTERM.
    /// </summary>
    /// <param name="urls">Where to listen.</param>
    /// <param name="services">The job services (<c>JobsHost.Services</c>): each route resolves the one it adapts.</param>
    /// <param name="log">Where the server's log lines go.</param>
    /// <param name="level">The least level logged.</param>
    public static WebApplication Build(string urls, IServiceProvider services, TextWriter log, LogLevel level)
    {
        var api = services.GetRequiredService<JobApiService>();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new Console.LineLoggerProvider(log));
        builder.Logging.SetMinimumLevel(level);
        // Kestrel and routing log every request and start-up step at Information; only their trouble matters here.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, CommandLineLifetime>();
        var app = builder.Build();
        app.Use((http, next) => AnswerFailuresAsync(http, next, app.Logger));
        app.MapPost("/api/jobs", async (HttpContext http) =>
            await RespondAsync(http, await api.SubmitHttpAsync(http.Request.Body, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
        app.MapGet("/api/jobs/{jobId}", async (HttpContext http, string jobId) =>
            await RespondAsync(http, await api.GetStatusHttpAsync(jobId, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
        MapRequestRoutes(app, services.GetRequiredService<RequestApiService>());
        var embeddings = services.GetRequiredService<EmbeddingApiService>();
        app.MapPost("/api/embeddings", async (HttpContext http) =>
            await RespondAsync(http, await embeddings.EmbedHttpAsync(http.Request.Body, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
        app.MapGet("/api/health", (HttpContext http) => RespondAsync(http, new ApiResult(HttpStatusCode.OK, new { status = "ok" }, NewCorrelationId())));

        // The job list and the API's own description: adapters as the routes above.
        app.MapGet("/api/jobs", async (HttpContext http) =>
            await RespondAsync(http, await api.ListHttpAsync(http.Request.Query.TryGetValue("limit", out var limit) ? limit.ToString() : null, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
        app.MapGet("/api/" + OpenApiDocument.Route, (HttpContext http) => RespondAsync(http, OpenApiDocument.Answer(NewCorrelationId())));

        // The studio page and its files: not API routes (no OpenAPI entry), answered as the Functions app answers them.
        app.MapGet("/" + StudioFiles.PageRoute, (HttpContext http) => RespondAsync(http, StudioFiles.Answer(StudioFiles.Page, NewCorrelationId())));
        app.MapGet("/" + StudioFiles.FileRoute, (HttpContext http, string name) => RespondAsync(http, StudioFiles.Answer(name, NewCorrelationId())));
        return app;
    }

    /// <summary>The edit and generation endpoints (<c>/api/edits</c>, <c>/api/generations</c>), adapters over <see cref="RequestApiService"/>.</summary>
    private static void MapRequestRoutes(WebApplication app, RequestApiService requests)
    {
        foreach (var (path, queue) in new[] { ("edits", WorkQueue.Edits), ("generations", WorkQueue.Generate) })
        {
            app.MapPost($"/api/{path}", async (HttpContext http) =>
                await RespondAsync(http, await requests.SubmitHttpAsync(queue, http.Request.Body, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
            app.MapGet($"/api/{path}/{{requestId}}", async (HttpContext http, string requestId) =>
                await RespondAsync(http, await requests.GetStatusHttpAsync(queue, requestId, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
            app.MapGet($"/api/{path}/{{requestId}}/files/{{name}}", async (HttpContext http, string requestId, string name) =>
                await RespondAsync(http, await requests.GetFileHttpAsync(queue, requestId, name, Headers(http.Request), NewCorrelationId(), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// Runs the rest of the pipeline; an exception nothing else handled (a status document that is
    /// not JSON, say) is logged with a fresh correlation id and answered as a 500 problem naming that
    /// id, never with the exception's text. Once the answer has started it can only be cut short.
    /// </summary>
    private static async Task AnswerFailuresAsync(HttpContext http, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            var correlationId = NewCorrelationId();
            LogFailed(logger, e, http.Request.Method, http.Request.Path, correlationId);
            http.Response.Clear();
            await RespondAsync(http, ApiResult.Error(
                HttpStatusCode.InternalServerError,
                $"The service failed while answering this request; its log has the cause under correlation id {correlationId}: quote it if you report this.",
                correlationId)).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed (correlation id {CorrelationId})")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string path, string correlationId);

    /// <summary>As the Functions adapter: status, then <see cref="ApiResult.Headers"/>, then the body.</summary>
    private static async Task RespondAsync(HttpContext http, ApiResult result)
    {
        http.Response.StatusCode = (int)result.Status;
        foreach (var (name, value) in result.Headers(new Uri(http.Request.GetEncodedUrl())))
        {
            http.Response.Headers[name] = value;
        }

        await result.WriteBodyAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The request's headers in the shape the job services read (the Functions worker's).</summary>
    private static IEnumerable<KeyValuePair<string, IEnumerable<string>>> Headers(HttpRequest request) =>
        request.Headers.Select(h => new KeyValuePair<string, IEnumerable<string>>(h.Key, h.Value.Select(v => v ?? string.Empty)));

    /// <summary>A fresh id per request, in the shape of the Functions invocation id the app uses (a GUID).</summary>
    private static string NewCorrelationId() => Guid.NewGuid().ToString();

    /// <summary>
    /// Leaves SIGINT and SIGTERM to System.CommandLine, which cancels the command's token; the
    /// host's default console lifetime would take them too and stop the server behind the command's back.
    /// </summary>
    private sealed class CommandLineLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

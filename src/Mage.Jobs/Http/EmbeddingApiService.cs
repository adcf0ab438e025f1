using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Uploads;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Http;

/// <summary>
/// <c>POST /api/embeddings</c>: synchronous embeddings for a few small images sent in the body, with
/// the uploads' options (<see cref="UploadEmbeddingService"/>), so a vector here equals the upload's
/// embedding.npy for the same bytes. Two shapes: <c>{ "images": [{ "id", "data" }] }</c>, and the
/// Azure AI Search custom Web API skill's <c>{ "values": [{ "recordId", "data": { "image" } }] }</c>.
/// An image that fails gets its own error and the others still succeed; nothing is stored.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class EmbeddingApiService(
    IMageEngineSource engines,
    IOptions<LimitSettings> limits,
    IOptions<ApiSettings> api,
    ILogger<EmbeddingApiService> logger)
{
    /// <summary>
    /// Largest accepted body: 1 MiB, checked here so both hosts refuse the same bodies (the Functions app's
    /// <c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c> lets through the larger multipart edits, <see cref="RequestApiService.MaxUploadBodyBytes"/>).
    /// Base64 takes a third more: about 750 KiB of images in all.
    /// </summary>
    public const int MaxBodyBytes = 1 << 20;

    /// <summary>Most images in one request; more belong in a bulk job (<c>POST /api/jobs</c>).</summary>
    public const int MaxImages = 16;

    private const string PlainList = "images";
    private const string SkillList = "values";

    /// <summary>
    /// The caller from <paramref name="headers"/> (<see cref="ApiGate"/>), the body read under
    /// <see cref="MaxBodyBytes"/>, at most <see cref="MaxImages"/> images embedded together under the
    /// API timeout. 200 with one entry per image in request order; 400 for a body of neither shape,
    /// 413 for too large a body or too many images, 503 when this process has no model.
    /// </summary>
    public async Task<ApiResult> EmbedHttpAsync(Stream body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (ApiGate.Identify(headers, api.Value.TrustAuthHeaders, correlationId, logger, out var refused) is null)
        {
            return refused!;
        }

        var text = await ApiBody.ReadAsync(body, headers, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return ApiResult.Error(HttpStatusCode.RequestEntityTooLarge,
                $"The request is larger than {MaxBodyBytes} bytes; send fewer or smaller images (at most {MaxImages}), or use a bulk job (POST /api/jobs).", correlationId);
        }

        if (Parse(text, out var skill, out var inputs, out var problemField) is { } problem)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, problem, correlationId, problemField);
        }

        if (inputs.Count > MaxImages)
        {
            return ApiResult.Error(HttpStatusCode.RequestEntityTooLarge,
                $"The request has {inputs.Count} images in '{(skill ? SkillList : PlainList)}'; at most {MaxImages} are accepted, or use a bulk job (POST /api/jobs).", correlationId, skill ? SkillList : PlainList);
        }

        MageEngine engine;
        try
        {
            engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ModelUnavailableException e)
        {
            return ApiResult.Error(HttpStatusCode.ServiceUnavailable, e.Message, correlationId);
        }

        var timer = Stopwatch.StartNew();
        using var deadline = ApiGate.Deadline(cancellationToken, TimeSpan.FromSeconds(limits.Value.ApiTimeoutSeconds));
        Outcome[] outcomes;
        try
        {
            // Together, so the engine's batchers can put them in one batch.
            outcomes = await Task.WhenAll(inputs.Select(input => EmbedAsync(engine, input, deadline.Token))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogTimedOut(logger, inputs.Count, correlationId);
            return ApiResult.Error(HttpStatusCode.GatewayTimeout,
                $"Embedding {inputs.Count} images took longer than {limits.Value.ApiTimeoutSeconds} s; send fewer images per request.", correlationId);
        }

        LogEmbedded(logger, inputs.Count, outcomes.Count(o => o.Error is not null), timer.Elapsed.TotalMilliseconds, correlationId);
        object answer = skill
            ? new EmbeddingWire.SkillAnswer(inputs.Zip(outcomes, (input, o) => new EmbeddingWire.SkillRecord(
                input.Id, new EmbeddingWire.SkillData(o.Vector), o.Error is null ? [] : [new EmbeddingWire.SkillMessage(o.Error)], [])).ToList())
            : new EmbeddingWire.Answer(inputs.Zip(outcomes, (input, o) => new EmbeddingWire.Item(input.Id, o.Vector, o.Error)).ToList());
        return new ApiResult(HttpStatusCode.OK, answer, correlationId);
    }

    /// <summary>One image's vector, or its error as <c>reason: message</c>; cancellation propagates.</summary>
    private async Task<Outcome> EmbedAsync(MageEngine engine, Input input, CancellationToken cancellationToken)
    {
        if (input.Problem is not null)
        {
            return Failed(ErrorReason.InvalidRequest, input.Problem);
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(input.Data!);
        }
        catch (FormatException)
        {
            return Failed(ErrorReason.InvalidRequest, $"{input.Field} is not base64.");
        }

        if (bytes.Length > limits.Value.MaxImageBytes)
        {
            return Failed(ErrorReason.TooLarge, $"{input.Field} has {bytes.Length} bytes; at most {limits.Value.MaxImageBytes} are accepted.");
        }

        try
        {
            var embedding = await engine.EmbedAsync(bytes, UploadEmbeddingService.Embed, input.Field, cancellationToken).ConfigureAwait(false);
            return new Outcome(embedding.Features, null);
        }
        catch (ImageDecodeException e)
        {
            return Failed(ErrorReasons.From(e.Reason), e.Message);
        }
        catch (InvalidRequestException e)
        {
            return Failed(ErrorReason.InvalidRequest, e.Message);
        }
    }

    private static Outcome Failed(ErrorReason reason, string message) => new(null, ErrorReasons.Format(reason, message));

    /// <summary>
    /// The body's images in order, or why the body is neither shape (and the member at fault in
    /// <paramref name="field"/>, when one is). An item without an id fails the request (its answer could
    /// not be matched); an item without image data fails alone.
    /// </summary>
    private static string? Parse(string text, out bool skill, out List<Input> inputs, out string? field)
    {
        skill = false;
        inputs = [];
        field = null;
        const string Shapes = $"The body must be {{ \"{PlainList}\": [{{ \"id\": ..., \"data\": base64 }}] }} or an Azure AI Search skill's {{ \"{SkillList}\": [{{ \"recordId\": ..., \"data\": {{ \"image\": base64 }} }}] }}.";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            return $"The body is not JSON ({e.Message}). {Shapes}";
        }

        using (document)
        {
            var root = document.RootElement;
            var hasPlain = root.ValueKind == JsonValueKind.Object && root.TryGetProperty(PlainList, out _);
            var hasSkill = root.ValueKind == JsonValueKind.Object && root.TryGetProperty(SkillList, out _);
            if (hasPlain == hasSkill)
            {
                return Shapes;
            }

            skill = hasSkill;
            var list = root.GetProperty(skill ? SkillList : PlainList);
            if (list.ValueKind != JsonValueKind.Array)
            {
                field = skill ? SkillList : PlainList;
                return $"'{field}' must be an array. {Shapes}";
            }

            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var at = $"{(skill ? SkillList : PlainList)}[{index++}]";
                var idName = skill ? "recordId" : "id";
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty(idName, out var idElement) ||
                    idElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(idElement.GetString()))
                {
                    field = at;
                    return $"{at} must be an object with a non-empty string '{idName}'. {Shapes}";
                }

                var dataField = skill ? $"{at}.data.image" : $"{at}.data";
                var data = skill
                    ? item.TryGetProperty("data", out var record) && record.ValueKind == JsonValueKind.Object && record.TryGetProperty("image", out var image) ? image : default
                    : item.TryGetProperty("data", out var plain) ? plain : default;
                inputs.Add(data.ValueKind == JsonValueKind.String
                    ? new Input(idElement.GetString()!, dataField, data.GetString(), null)
                    : new Input(idElement.GetString()!, dataField, null, $"{dataField} must be a base64 string."));
            }
        }

        return null;
    }

    /// <summary>One image of the request: its id, the field that held it (for messages), its base64 text or why it has none.</summary>
    private sealed record Input(string Id, string Field, string? Data, string? Problem);

    private sealed record Outcome(float[]? Vector, string? Error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded {Count} images over HTTP ({Failed} failed) in {ElapsedMs} ms (correlation id {CorrelationId})")]
    private static partial void LogEmbedded(ILogger logger, int count, int failed, double elapsedMs, string correlationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedding {Count} images over HTTP ran past the API timeout (correlation id {CorrelationId})")]
    private static partial void LogTimedOut(ILogger logger, int count, string correlationId);
}

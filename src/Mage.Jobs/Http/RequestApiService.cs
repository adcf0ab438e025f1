using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Inference;
using Mage.Inference.Imaging;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Mage.Jobs.Http;

/// <summary>
/// The HTTP side of edits and generations (<c>/api/edits</c>, <c>/api/generations</c>): validate a
/// message with the queue service's own rules and enqueue it for one <see cref="ApiCaller"/>, then
/// answer that caller alone with its state and its files. API requests write to the default
/// results container under the channel's default prefix, so the API knows where their results are;
/// who submitted each is recorded create-only in the jobs container (<see cref="ResultsLayout.ApiRequest"/>).
/// Answers name only the request's own fields; storage trouble is logged under the correlation id.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class RequestApiService(
    BlobServiceClient blobs,
    QueueServiceClient queues,
    RequestLifecycle lifecycle,
    TimeProvider time,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    IOptions<ApiSettings> api,
    ILogger<RequestApiService> logger)
{
    /// <summary>Largest accepted JSON body, as for jobs (<see cref="JobApiService.MaxBodyBytes"/>): a queue message holds 64 KiB, and base64 takes a quarter.</summary>
    public const int MaxBodyBytes = JobApiService.MaxBodyBytes;

    /// <summary>
    /// Largest accepted <c>multipart/form-data</c> edit (request, image and mask together): 16 MiB, the largest
    /// body any endpoint of the API accepts, which the Functions host's <c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c> (infra) must let through.
    /// </summary>
    public const int MaxUploadBodyBytes = 16 << 20;

    /// <summary>
    /// <c>POST /api/edits</c> (<paramref name="queue"/> <see cref="WorkQueue.Edits"/>) or <c>POST /api/generations</c>
    /// (<see cref="WorkQueue.Generate"/>): the caller from <paramref name="headers"/>, the body read under
    /// <see cref="MaxBodyBytes"/>, validated as the queue service validates it, recorded for the caller and enqueued.
    /// An edit may instead be a <c>multipart/form-data</c> body (<see cref="EditForm"/>) under <see cref="MaxUploadBodyBytes"/>
    /// whose image (and mask) is stored create-only in the uploads container before the message naming it is enqueued.
    /// </summary>
    public async Task<ApiResult> SubmitHttpAsync(WorkQueue queue, Stream body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var route = RequestRoute.Of(queue);
        if (Identify(headers, correlationId, out var refused) is not { } caller)
        {
            return refused!;
        }

        if (RefuseContentType(route, headers, correlationId, out var form) is { } unsupported)
        {
            return unsupported;
        }

        if (form is not null)
        {
            return await SubmitFormAsync(route, caller, body, headers, form, correlationId, cancellationToken).ConfigureAwait(false);
        }

        var text = await ApiBody.ReadAsync(body, headers, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return ApiResult.Error(HttpStatusCode.RequestEntityTooLarge, $"The {route.Noun} is larger than {MaxBodyBytes} bytes.", correlationId);
        }

        if (Refuse(route, text, out var target, out var request, correlationId) is { } invalid)
        {
            return invalid;
        }

        // The images multipart edits stored are their senders' alone: a JSON body may not name them.
        foreach (var read in request!.Reads)
        {
            if (storage.Value.CheckSourceBlob(read.Blob.Container!, read.Blob.Name, $"{read.Field}.name") is { } privateUpload)
            {
                return ApiResult.Error(HttpStatusCode.BadRequest, ErrorReasons.Format(ErrorReason.NotAllowed, privateUpload), correlationId, $"{read.Field}.name");
            }
        }

        var record = new RequestApiRecord(target!.RequestId, caller.Name!, route.Path, MessageJson.Hash(text), time.GetUtcNow());
        return await EnqueueAsync(route, caller, target, text, record, [], correlationId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /api/edits/{id}</c> or <c>/api/generations/{id}</c>: a <see cref="RequestApiStatus"/> for the
    /// caller that submitted the request; anyone else, and an id nobody used, get the same 404.
    /// </summary>
    public async Task<ApiResult> GetStatusHttpAsync(WorkQueue queue, string requestId, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default)
    {
        var route = RequestRoute.Of(queue);
        if (Gate(requestId, headers, correlationId, out var caller) is { } refused)
        {
            return refused;
        }

        return await GuardAsync(route, "status", requestId, correlationId, async token =>
        {
            if (await OwnRecordAsync(route, requestId, caller!, correlationId, token).ConfigureAwait(false) is not { } record)
            {
                return NotFound(route, requestId, correlationId);
            }

            var results = blobs.GetBlobContainerClient(storage.Value.ResultsContainer);
            var folder = Folder(route, requestId);
            if (await ReadJsonAsync(results.GetBlobClient(ResultsLayout.RequestResult(folder)), token).ConfigureAwait(false) is { } result)
            {
                var links = FileNames(result, folder).Select(name => $"/api/{route.Path}/{requestId}/files/{name}").ToList();
                return new ApiResult(HttpStatusCode.OK, new RequestApiStatus(requestId, RequestState.Completed, null, null, links), correlationId);
            }

            // A refusal is recorded in the request's folder, or, when it was refused before it could write there, in the channel's refusals folder.
            var refusedFolder = ResultsLayout.RefusedRequestFolder(route.Channel.DefaultPrefix, requestId, record.MessageHash);
            if ((await ReadJsonAsync(results.GetBlobClient(ResultsLayout.Error(folder)), token).ConfigureAwait(false) ??
                 await ReadJsonAsync(results.GetBlobClient(ResultsLayout.Error(refusedFolder)), token).ConfigureAwait(false)) is { } failure)
            {
                var reason = failure.TryGetProperty("reason", out var r) ? r.Deserialize<ErrorReason?>(JsonDefaults.Documents) : null;
                var message = failure.TryGetProperty("message", out var m) ? m.GetString() : null;
                return new ApiResult(HttpStatusCode.OK, new RequestApiStatus(requestId, RequestState.Failed, reason, message, []), correlationId);
            }

            // A worker holds the request's claim while it runs, and notes its progress there.
            var claim = await BlobWrites.TryGetPropertiesAsync(Jobs.GetBlobClient(ResultsLayout.RequestClaim(results.Name, folder)), token).ConfigureAwait(false);
            return new ApiResult(HttpStatusCode.OK, claim is null
                ? new RequestApiStatus(requestId, RequestState.Queued, null, null, [])
                : new RequestApiStatus(requestId, RequestState.Running, null, null, [], ProgressOf(claim.Metadata)), correlationId);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /api/edits/{id}/files/{name}</c> (and generations): the file, streamed as an <see cref="ApiFile"/>
    /// (<c>image/png</c> or <c>application/octet-stream</c>), for the caller that submitted the request and only
    /// for a name its result.json lists; 404 otherwise.
    /// </summary>
    public async Task<ApiResult> GetFileHttpAsync(WorkQueue queue, string requestId, string name, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default)
    {
        var route = RequestRoute.Of(queue);
        if (Gate(requestId, headers, correlationId, out var caller) is { } refused)
        {
            return refused;
        }

        return await GuardAsync(route, "file", requestId, correlationId, async token =>
        {
            var noFile = ApiResult.Error(HttpStatusCode.NotFound, $"No file {name} in {route.Noun} {requestId}.", correlationId);
            if (await OwnRecordAsync(route, requestId, caller!, correlationId, token).ConfigureAwait(false) is null)
            {
                return NotFound(route, requestId, correlationId);
            }

            var results = blobs.GetBlobContainerClient(storage.Value.ResultsContainer);
            var folder = Folder(route, requestId);
            if (await ReadJsonAsync(results.GetBlobClient(ResultsLayout.RequestResult(folder)), token).ConfigureAwait(false) is not { } result ||
                !FileNames(result, folder).Contains(name, StringComparer.Ordinal))
            {
                return noFile;
            }

            var download = await results.GetBlobClient(folder + name).DownloadStreamingAsync(cancellationToken: token).ConfigureAwait(false);
            var contentType = name.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "application/octet-stream";
            return new ApiResult(HttpStatusCode.OK, new ApiFile(download.Value.Content, contentType, download.Value.Details.ContentLength), correlationId);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The progress a worker noted on a claim (<see cref="Coordination.WorkClaim.NoteProgress"/>), or null before its first note.</summary>
    private static RequestApiProgress? ProgressOf(IDictionary<string, string> metadata) =>
        metadata.TryGetValue(Coordination.WorkClaim.StepsDoneMetadata, out var done) && int.TryParse(done, NumberStyles.None, CultureInfo.InvariantCulture, out var d) &&
        metadata.TryGetValue(Coordination.WorkClaim.StepsTotalMetadata, out var total) && int.TryParse(total, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t > 0
            ? new RequestApiProgress(Math.Min(d, t), t)
            : null;

    private BlobContainerClient Jobs => blobs.GetBlobContainerClient(storage.Value.JobsContainer);

    private BlobContainerClient Uploads => blobs.GetBlobContainerClient(storage.Value.UploadsContainer);

    private TimeSpan ApiTimeout => TimeSpan.FromSeconds(limits.Value.ApiTimeoutSeconds);

    private static string Folder(RequestRoute route, string requestId) => ResultsLayout.RequestFolder(route.Channel.DefaultPrefix, requestId);

    /// <summary>
    /// Records <paramref name="record"/> for its caller (create-only), stores <paramref name="uploads"/> create-only in the
    /// uploads container, and enqueues <paramref name="text"/>. Only the caller whose record holds the id writes its uploads,
    /// after its record exists, so no upload of another request is ever replaced; the same caller sending the same body
    /// again finds its record and its uploads as they are and enqueues again (a request id runs once).
    /// </summary>
    private async Task<ApiResult> EnqueueAsync(RequestRoute route, ApiCaller caller, RequestTarget target, string text, RequestApiRecord record, IReadOnlyList<ApiUpload> uploads, string correlationId, CancellationToken cancellationToken)
    {
        var id = target.RequestId;
        return await GuardAsync(route, "submit", id, correlationId, async token =>
        {
            var results = blobs.GetBlobContainerClient(storage.Value.ResultsContainer);
            var recordBlob = Jobs.GetBlobClient(ResultsLayout.ApiRequest(route.Path, id));
            if (await BlobWrites.TryGetPropertiesAsync(recordBlob, token).ConfigureAwait(false) is null &&
                (await Exists(results, ResultsLayout.RequestResult(target.Folder), token).ConfigureAwait(false) ||
                 await Exists(results, ResultsLayout.Error(target.Folder), token).ConfigureAwait(false) ||
                 await AnyExistsAsync(uploads, token).ConfigureAwait(false)))
            {
                // Sent straight to the queue before, or its upload names hold blobs nobody recorded: not this caller's.
                return Taken(route, id, correlationId);
            }

            var json = BinaryData.FromString(JsonSerializer.Serialize(record, JsonDefaults.Documents));
            if (!await BlobWrites.TryCreateAsync(recordBlob, json, "application/json", cancellationToken: token).ConfigureAwait(false))
            {
                var existing = await ReadRecordAsync(route, id, token).ConfigureAwait(false);

                // The same caller sending the same body again (after a 503, say) is the same request:
                // it is enqueued again, and the lifecycle runs a request id once.
                if (existing is null || existing.Caller != record.Caller || existing.MessageHash != record.MessageHash || existing.UploadsHash != record.UploadsHash)
                {
                    return existing is not null && caller.MaySee(existing.Caller)
                        ? ApiResult.Error(HttpStatusCode.Conflict, $"{Capitalized(route.Noun)} {id} already exists; its status is at /api/{route.Path}/{id}.", correlationId, "requestId")
                        : Taken(route, id, correlationId);
                }
            }

            foreach (var upload in uploads)
            {
                if (!await StoreAsync(upload, token).ConfigureAwait(false))
                {
                    LogForeignUpload(logger, route.Noun, id, upload.Name, correlationId);
                    return Taken(route, id, correlationId);
                }
            }

            await queues.GetQueueClient(storage.Value.QueueName(route.Queue)).SendMessageAsync(text, token).ConfigureAwait(false);
            return new ApiResult(HttpStatusCode.Accepted, new { requestId = id, state = RequestState.Queued }, correlationId, $"{route.Path}/{id}");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>multipart/form-data</c> edits: the parts read under their caps (<see cref="EditForm"/>), the image (and mask)
    /// identified from their headers only, the message built from the request part with <c>source</c> (and <c>mask</c>)
    /// naming where the parts are stored (<see cref="ResultsLayout.ApiUpload"/>), checked as a JSON body is, then enqueued.
    /// </summary>
    private async Task<ApiResult> SubmitFormAsync(RequestRoute route, ApiCaller caller, Stream body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, MediaTypeHeaderValue contentType, string correlationId, CancellationToken cancellationToken)
    {
        var uploadsContainer = storage.Value.UploadsContainer;
        if (storage.Value.CheckSource(uploadsContainer, "source.container") is not null)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"{EditForm.ImagePart} cannot be taken here: this service does not read edits' images from its uploads container '{uploadsContainer}'; send the edit as JSON naming a source instead.", correlationId, EditForm.ImagePart);
        }

        if (ApiBody.DeclaredLength(headers) > MaxUploadBodyBytes)
        {
            return ApiResult.Error(HttpStatusCode.RequestEntityTooLarge, $"The {route.Noun} is larger than {MaxUploadBodyBytes} bytes.", correlationId);
        }

        EditForm form;
        try
        {
            form = await EditForm.ReadAsync(body, contentType, MaxUploadBodyBytes, MaxBodyBytes, limits.Value.MaxImageBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (EditFormException e)
        {
            return ApiResult.Error(e.Status, e.Message, correlationId, e.Field);
        }

        var image = Inspect(form.Image, EditForm.ImagePart, null, correlationId, out var imageType);
        if (image is not null)
        {
            return image;
        }

        var maskType = "";
        if (form.Mask is { } maskBytes && Inspect(maskBytes, EditForm.MaskPart, MageTokens.ImageSize, correlationId, out maskType) is { } mask)
        {
            return mask;
        }

        if (FormMessage(route, form, correlationId, out var text) is { } notMessage)
        {
            return notMessage;
        }

        if (Refuse(route, text!, out var target, out _, correlationId) is { } invalid)
        {
            return invalid;
        }

        var id = target!.RequestId;
        List<ApiUpload> uploads = [new(ResultsLayout.ApiUpload(route.Path, id, EditForm.ImagePart), form.Image, imageType!)];
        if (form.Mask is not null)
        {
            uploads.Add(new(ResultsLayout.ApiUpload(route.Path, id, EditForm.MaskPart), form.Mask, maskType!));
        }

        var uploadsHash = MessageJson.Hash(string.Join('\n', uploads.Select(u => $"{u.Name} {u.Sha256}")));
        var record = new RequestApiRecord(id, caller.Name!, route.Path, MessageJson.Hash(text!), time.GetUtcNow(), uploadsHash);
        return await EnqueueAsync(route, caller, target, text!, record, uploads, correlationId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The 415 for a body that is neither JSON (<c>application/json</c>, <c>*+json</c>, or no Content-Type, as before
    /// forms were taken) nor, for edits, <c>multipart/form-data</c>; else null, and the form's media type when it is one.
    /// </summary>
    private static ApiResult? RefuseContentType(RequestRoute route, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, out MediaTypeHeaderValue? form)
    {
        form = null;
        var values = RequestHeaders.Values(headers, "Content-Type");
        if (values.Count == 0)
        {
            return null;
        }

        var accepted = route == RequestRoute.Edits ? $"application/json, or {EditForm.MediaType} with the image" : "application/json";
        if (values.Count > 1 || !MediaTypeHeaderValue.TryParse(values[0], out var type))
        {
            return ApiResult.Error(HttpStatusCode.UnsupportedMediaType, $"Content-Type must be one media type: {accepted}.", correlationId, "Content-Type");
        }

        if (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (type.MediaType.Equals(EditForm.MediaType, StringComparison.OrdinalIgnoreCase))
        {
            form = type;
            return route == RequestRoute.Edits
                ? null
                : ApiResult.Error(HttpStatusCode.UnsupportedMediaType, $"Content-Type {EditForm.MediaType} is for edits that bring their image; a {route.Noun} is sent as application/json.", correlationId, "Content-Type");
        }

        return ApiResult.Error(HttpStatusCode.UnsupportedMediaType, $"Content-Type {type.MediaType} is not accepted; send {accepted}.", correlationId, "Content-Type");
    }

    /// <summary>
    /// The 400 or 413 for a part that is not an image the service reads, or that is over the image limits, found from
    /// its header alone (<see cref="ImageLoader.Inspect"/>), or, with <paramref name="side"/>, not <paramref name="side"/> pixels square; else null and its MIME type.
    /// </summary>
    private ApiResult? Inspect(byte[] bytes, string part, int? side, string correlationId, out string? mimeType)
    {
        mimeType = null;
        try
        {
            var (width, height, type) = ImageLoader.Inspect(bytes, limits.Value.ToImageLimits(), part);
            if (side is { } s && (width != s || height != s))
            {
                return ApiResult.Error(HttpStatusCode.BadRequest, $"{part} is {width}x{height}; it must be {s}x{s}, the size edits work at.", correlationId, part);
            }

            mimeType = type;
            return null;
        }
        catch (ImageDecodeException e)
        {
            return e.Reason == ImageDecodeFailure.TooLarge
                ? ApiResult.Error(HttpStatusCode.RequestEntityTooLarge, $"{part} is too large: {e.Message}", correlationId, part)
                : ApiResult.Error(HttpStatusCode.BadRequest, $"{part} is not an image this service reads: {e.Message}", correlationId, part);
        }
    }

    /// <summary>
    /// The 400 for a request part that is not a JSON object with a usable requestId, or that names what the service
    /// sets (<c>source</c>, <c>mask</c>, <c>output</c>); else null and the edit message: the request part with
    /// <c>source</c> (and <c>mask</c>) naming where the form's parts are stored.
    /// </summary>
    private ApiResult? FormMessage(RequestRoute route, EditForm form, string correlationId, out string? text)
    {
        text = null;
        JsonObject? message;
        try
        {
            message = JsonNode.Parse(form.Request) as JsonObject;
        }
        catch (JsonException e)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"{EditForm.RequestPart} is not JSON: {e.Message}", correlationId, EditForm.RequestPart);
        }

        if (message is null)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"{EditForm.RequestPart} must be a JSON object: the edit message without source, mask and output.", correlationId, EditForm.RequestPart);
        }

        foreach (var member in new[] { "source", EditForm.MaskPart, "output" })
        {
            if (MessageJson.HasMember(form.Request, member))
            {
                return ApiResult.Error(HttpStatusCode.BadRequest, $"{EditForm.RequestPart} names {member}, which the service sets for a {EditForm.MediaType} edit (the {EditForm.ImagePart} and {EditForm.MaskPart} parts, and where results go); leave it out.", correlationId, $"{EditForm.RequestPart}.{member}");
            }
        }

        if (MessageJson.SalvageId(form.Request, "requestId") is not { } id)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"requestId must be {BlobNames.IdRule}.", correlationId, "requestId");
        }

        var uploads = storage.Value.UploadsContainer;
        message["source"] = new JsonObject { ["container"] = uploads, ["name"] = ResultsLayout.ApiUpload(route.Path, id, EditForm.ImagePart) };
        if (form.Mask is not null)
        {
            message[EditForm.MaskPart] = new JsonObject { ["container"] = uploads, ["name"] = ResultsLayout.ApiUpload(route.Path, id, EditForm.MaskPart) };
        }

        text = message.ToJsonString();
        return null;
    }

    /// <summary>Whether any of <paramref name="uploads"/> already has a blob.</summary>
    private async Task<bool> AnyExistsAsync(IReadOnlyList<ApiUpload> uploads, CancellationToken cancellationToken)
    {
        foreach (var upload in uploads)
        {
            if (await Exists(Uploads, upload.Name, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Creates <paramref name="upload"/>'s blob if absent; true when it is there now with these bytes (created here,
    /// or by an earlier try of the same request, whose hash it carries), false when another blob holds the name (left as it is).
    /// </summary>
    private async Task<bool> StoreAsync(ApiUpload upload, CancellationToken cancellationToken)
    {
        var blob = Uploads.GetBlobClient(upload.Name);
        if (await BlobWrites.TryCreateAsync(blob, BinaryData.FromBytes(upload.Bytes), upload.ContentType, new Dictionary<string, string> { [ApiUpload.HashMetadata] = upload.Sha256 }, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var existing = await BlobWrites.TryGetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        return existing is not null && existing.Metadata.TryGetValue(ApiUpload.HashMetadata, out var hash) && hash == upload.Sha256;
    }

    /// <summary>
    /// A 400 for a body the queue service would refuse, or one that names <c>output</c>; else null and the
    /// request's target (the default results container, the channel's default prefix).
    /// </summary>
    private ApiResult? Refuse(RequestRoute route, string text, out RequestTarget? target, out IRequestMessage? request, string correlationId)
    {
        target = null;
        (request, var error) = route.Read(text);
        if (request is null)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, error!, correlationId, route.FieldIn(error!));
        }

        if (MessageJson.HasMember(text, "output"))
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"output is set by the service: {route.Noun}s over HTTP write where the API can read them back; leave it out.", correlationId, "output");
        }

        target = RequestValidation.Target(request.RequestId, null, storage.Value.ResultsContainer, route.Channel.DefaultPrefix, limits.Value, out error, out _);
        if (target is null)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, error!, correlationId, route.FieldIn(error!));
        }

        return route.Check(request, lifecycle, limits.Value) is { } problem ? ApiResult.Error(HttpStatusCode.BadRequest, problem.Message, correlationId, route.FieldIn(problem.Message)) : null;
    }

    /// <summary>The 401 or 400 a read is refused with before any I/O, else null and the caller.</summary>
    private ApiResult? Gate(string requestId, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, out ApiCaller? caller)
    {
        caller = Identify(headers, correlationId, out var refused);
        if (caller is null)
        {
            return refused;
        }

        return BlobNames.IsId(requestId) ? null : ApiResult.Error(HttpStatusCode.BadRequest, $"requestId must be {BlobNames.IdRule}.", correlationId, "requestId");
    }

    /// <summary>The request's record when <paramref name="caller"/> submitted it, else null (logged when someone else did).</summary>
    private async Task<RequestApiRecord?> OwnRecordAsync(RequestRoute route, string requestId, ApiCaller caller, string correlationId, CancellationToken cancellationToken)
    {
        var record = await ReadRecordAsync(route, requestId, cancellationToken).ConfigureAwait(false);
        if (record is not null && !caller.MaySee(record.Caller))
        {
            LogHidden(logger, route.Noun, requestId, caller.ToString(), correlationId);
            return null;
        }

        return record;
    }

    private async Task<RequestApiRecord?> ReadRecordAsync(RequestRoute route, string requestId, CancellationToken cancellationToken) =>
        await BlobWrites.TryDownloadAsync(Jobs.GetBlobClient(ResultsLayout.ApiRequest(route.Path, requestId)), cancellationToken).ConfigureAwait(false) is { } download
            ? download.Content.ToObjectFromJson<RequestApiRecord>(JsonDefaults.Documents)
            : null;

    private static async Task<JsonElement?> ReadJsonAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        if (await BlobWrites.TryDownloadAsync(blob, cancellationToken).ConfigureAwait(false) is not { } download)
        {
            return null;
        }

        using var document = JsonDocument.Parse(download.Content.ToMemory());
        return document.RootElement.Clone();
    }

    private static async Task<bool> Exists(BlobContainerClient container, string name, CancellationToken cancellationToken) =>
        await BlobWrites.TryGetPropertiesAsync(container.GetBlobClient(name), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>The names of result.json's outputs (<c>container/folder/name</c> paths) inside <paramref name="folder"/>.</summary>
    private IEnumerable<string> FileNames(JsonElement result, string folder)
    {
        var inFolder = $"{storage.Value.ResultsContainer}/{folder}";
        return result.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array
            ? outputs.EnumerateArray()
                .Select(o => o.GetString())
                .Where(o => o is not null && o.StartsWith(inFolder, StringComparison.Ordinal) && !o.AsSpan(inFolder.Length).Contains('/'))
                .Select(o => o![inFolder.Length..])
            : [];
    }

    private ApiCaller? Identify(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, out ApiResult? refused) =>
        ApiGate.Identify(headers, api.Value.TrustAuthHeaders, correlationId, logger, out refused);

    /// <summary>Runs <paramref name="work"/> under <see cref="LimitSettings.ApiTimeoutSeconds"/>; storage that fails or does not answer is a 503, its detail logged.</summary>
    private async Task<ApiResult> GuardAsync(RequestRoute route, string request, string requestId, string correlationId, Func<CancellationToken, Task<ApiResult>> work, CancellationToken cancellationToken)
    {
        using var deadline = ApiGate.Deadline(cancellationToken, ApiTimeout);
        try
        {
            return await work(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogStorageTrouble(logger, e, route.Noun, requestId, request, correlationId);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            LogStorageTrouble(logger, e, route.Noun, requestId, request, correlationId);
        }

        return ApiResult.Error(HttpStatusCode.ServiceUnavailable, $"The {request} request for {route.Noun} {requestId} could not be served: the service cannot reach its storage now; try again later (submitting the same body again is safe). Correlation id {correlationId}.", correlationId);
    }

    private static ApiResult NotFound(RequestRoute route, string requestId, string correlationId) =>
        ApiResult.Error(HttpStatusCode.NotFound, $"No {route.Noun} {requestId}.", correlationId);

    private static ApiResult Taken(RequestRoute route, string requestId, string correlationId) =>
        ApiResult.Error(HttpStatusCode.Conflict, $"The {route.Noun} id {requestId} is taken; choose another.", correlationId, "requestId");

    private static string Capitalized(string noun) => char.ToUpper(noun[0], CultureInfo.InvariantCulture) + noun[1..];

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Noun} {RequestId}: the {Request} request answered 503 (correlation id {CorrelationId})")]
    private static partial void LogStorageTrouble(ILogger logger, Exception exception, string noun, string requestId, string request, string correlationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Noun} {RequestId} answered as taken: its upload {Upload} holds a blob it did not write, left as it is (correlation id {CorrelationId})")]
    private static partial void LogForeignUpload(ILogger logger, string noun, string requestId, string upload, string correlationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Noun} {RequestId} answered as not found to caller {Caller}, who did not submit it (correlation id {CorrelationId})")]
    private static partial void LogHidden(ILogger logger, string noun, string requestId, string caller, string correlationId);
}

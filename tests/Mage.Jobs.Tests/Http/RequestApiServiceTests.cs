using System.Net;
using System.Text;
using System.Text.Json;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Http;

/// <summary>
/// Edits and generations over HTTP (docs/api.md, POST /api/edits …): <see cref="RequestApiService"/>
/// against Azurite, the queued message run by the queue services themselves.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RequestApiServiceTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Guid A = Guid.Parse("0a0a0a0a-0000-4000-8000-00000000000a");
    private static readonly Guid B = Guid.Parse("0b0b0b0b-0000-4000-8000-00000000000b");

    private MageTestHost host = null!;

    private RequestApiService Api => host.Get<RequestApiService>();

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Api:TrustAuthHeaders"] = "true" });
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("edit/src.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(9, 64, 64)));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task An_edit_is_queued_runs_and_only_its_caller_reads_its_state_and_files()
    {
        var submitted = await SubmitAsync(WorkQueue.Edits, Edit("api-1"), Principal(A));
        Assert.Equal(HttpStatusCode.Accepted, submitted.Status);
        Assert.Equal("https://x/api/edits/api-1", submitted.Headers(new Uri("https://x/api/edits")).Single(h => h.Key == "Location").Value);
        Assert.Equal(RequestState.Queued, Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "api-1", Principal(A), "c")).State);

        var message = Assert.Single(await host.DrainAsync(host.Storage.EditsQueue));
        Assert.Equal(WorkOutcome.Completed, (await host.Get<EditService>().ProcessAsync(message)).Status);

        var status = Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "api-1", Principal(A), "c"));
        Assert.Equal(RequestState.Completed, status.State);
        Assert.Equal(["/api/edits/api-1/files/image-0.png", "/api/edits/api-1/files/tokens.npy"], status.Outputs);

        var file = await Api.GetFileHttpAsync(WorkQueue.Edits, "api-1", "image-0.png", Principal(A), "c");
        Assert.Equal(HttpStatusCode.OK, file.Status);
        Assert.Equal("image/png", file.Headers(new Uri("https://x/")).Single(h => h.Key == "Content-Type").Value);
        using var bytes = new MemoryStream();
        await file.WriteBodyAsync(bytes);
        var stored = (await host.Container(host.Storage.ResultsContainer).GetBlobClient("edits/api-1/image-0.png").DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(stored, bytes.ToArray());

        // Another caller, and the key holder, get exactly the answer of an id nobody used.
        var unknown = await Api.GetStatusHttpAsync(WorkQueue.Edits, "never-was", Principal(B), "c");
        foreach (var other in new[] { Principal(B), ApiCallerTests.Headers(("x-functions-key", "k")) })
        {
            var read = await Api.GetStatusHttpAsync(WorkQueue.Edits, "api-1", other, "c");
            Assert.Equal((HttpStatusCode.NotFound, Error(unknown).Replace("never-was", "api-1", StringComparison.Ordinal)), (read.Status, Error(read)));
            Assert.Equal(HttpStatusCode.NotFound, (await Api.GetFileHttpAsync(WorkQueue.Edits, "api-1", "image-0.png", other, "c")).Status);
        }

        // Only names result.json lists, and never the records themselves.
        foreach (var name in new[] { "result.json", "image-1.png", "..", "claim" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await Api.GetFileHttpAsync(WorkQueue.Edits, "api-1", name, Principal(A), "c")).Status);
        }

        // The same route under the other family does not know the id.
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetStatusHttpAsync(WorkQueue.Generate, "api-1", Principal(A), "c")).Status);
    }

    [Fact]
    public async Task A_refused_generation_reads_as_failed_with_its_reason()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(WorkQueue.Generate, """{ "requestId": "gen-api", "count": 1, "steps": 1 }""", Principal(A))).Status);
        var message = Assert.Single(await host.DrainAsync(host.Storage.GenerateQueue));

        // A blob of someone else's in the folder: the lifecycle refuses it into the refusals folder, which the API reads too.
        await host.Container(host.Storage.ResultsContainer).GetBlobClient("generate/gen-api/intruder.txt").UploadAsync(BinaryData.FromString("x"));
        Assert.Equal(WorkOutcome.Failed, (await host.Get<GenerateService>().ProcessAsync(message)).Status);

        var status = Status(await Api.GetStatusHttpAsync(WorkQueue.Generate, "gen-api", Principal(A), "c"));
        Assert.Equal((RequestState.Failed, ErrorReason.OutputInUse), (status.State, status.Reason));
        Assert.Contains("intruder.txt", status.Error, StringComparison.Ordinal);
        Assert.Empty(status.Outputs);
    }

    [Fact]
    public async Task A_running_request_shows_the_progress_its_worker_notes_on_its_claim()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(WorkQueue.Edits, Edit("prog-1"), Principal(A))).Status);
        var marker = host.Container(host.Storage.JobsContainer).GetBlobClient(ResultsLayout.RequestClaim(host.Storage.ResultsContainer, ResultsLayout.RequestFolder(EditService.DefaultPrefix, "prog-1")));

        await using (var claim = await WorkClaim.TryAcquireAsync(marker, default))
        {
            var before = Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "prog-1", Principal(A), "c"));
            Assert.Equal((RequestState.Running, null), (before.State, before.Progress));

            claim!.NoteProgress(3, 12);
            await claim.Noting;
            claim.NoteProgress(4, 12); // within a second of the last note: dropped, not queued
            await claim.Noting;
            var running = Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "prog-1", Principal(A), "c"));
            Assert.Equal((RequestState.Running, new RequestApiProgress(3, 12)), (running.State, running.Progress));
            using var json = JsonDocument.Parse(JsonSerializer.Serialize(running));
            Assert.Equal(3, json.RootElement.GetProperty("progress").GetProperty("stepsDone").GetInt32());
        }

        var queued = Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "prog-1", Principal(A), "c"));
        Assert.Equal((RequestState.Queued, null), (queued.State, queued.Progress));
    }

    [Fact]
    public async Task The_edit_service_notes_its_steps_while_it_runs()
    {
        var body = Edit("prog-2").Replace("\"steps\":1", "\"steps\":64", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(WorkQueue.Edits, body, Principal(A))).Status);
        var message = Assert.Single(await host.DrainAsync(host.Storage.EditsQueue));

        var running = host.Get<EditService>().ProcessAsync(message);
        var seen = new List<RequestApiProgress>();
        while (!running.IsCompleted)
        {
            if (Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "prog-2", Principal(A), "c")).Progress is { } progress)
            {
                seen.Add(progress);
            }

            await Task.Delay(10);
        }

        Assert.Equal(WorkOutcome.Completed, (await running).Status);
        Assert.NotEmpty(seen);
        Assert.All(seen, p => Assert.True(p.StepsTotal == 64 && p.StepsDone is >= 1 and <= 64, $"{p}"));
        Assert.Equal(RequestState.Completed, Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "prog-2", Principal(A), "c")).State);
    }

    [Fact]
    public async Task Bodies_the_queue_service_would_refuse_or_that_name_output_are_400_and_nothing_is_queued()
    {
        var cases = new (WorkQueue Queue, string Body, string Error, string? Field)[]
        {
            (WorkQueue.Edits, Edit("o-1", output: true), "output is set by the service", "output"),
            (WorkQueue.Edits, Edit("o-2", container: "elsewhere"), "source.container 'elsewhere' is not a container this service reads from", "source.container"),
            (WorkQueue.Edits, Edit("o-3", kind: "generate"), "kind 'generate' is not an edit", "kind"),
            (WorkQueue.Edits, Edit("bad id!"), "requestId 'bad id!' must be", "requestId"),
            (WorkQueue.Generate, """{ "requestId": "g-1", "count": 0 }""", "count 0 must be between 1 and", "count"),
            (WorkQueue.Generate, """{ "requestId": "g-2", "colour": "red" }""", "colour is not a known field", null),
            (WorkQueue.Edits, Edit("o-4").Replace("edit/src.png", "api/edits/someone-else/image", StringComparison.Ordinal), "notAllowed: source.name lies under api/ of the uploads container", "source.name"),
        };
        foreach (var (queue, body, error, field) in cases)
        {
            var result = await SubmitAsync(queue, body, Principal(A));
            Assert.Equal(HttpStatusCode.BadRequest, result.Status);
            Assert.Contains(error, Error(result), StringComparison.Ordinal);
            Assert.Equal(field, Assert.IsType<ApiProblem>(result.Body).Field);
        }

        Assert.Empty(await host.DrainAsync(host.Storage.EditsQueue));
        Assert.Empty(await host.DrainAsync(host.Storage.GenerateQueue));
    }

    [Fact]
    public async Task A_taken_id_is_409_the_same_body_from_its_caller_is_queued_again()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(WorkQueue.Edits, Edit("t-1"), Principal(A))).Status);

        var other = await SubmitAsync(WorkQueue.Edits, Edit("t-1"), Principal(B));
        var changed = await SubmitAsync(WorkQueue.Edits, Edit("t-1", kind: "outpaint"), Principal(A));
        var again = await SubmitAsync(WorkQueue.Edits, Edit("t-1"), Principal(A));

        Assert.Equal((HttpStatusCode.Conflict, "The edit id t-1 is taken; choose another."), (other.Status, Error(other)));
        Assert.Equal((HttpStatusCode.Conflict, "Edit t-1 already exists; its status is at /api/edits/t-1."), (changed.Status, Error(changed)));
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.Equal(2, (await host.DrainAsync(host.Storage.EditsQueue)).Count);

        // An id a queue sender already used: its results are not the API caller's.
        Assert.Equal(WorkOutcome.Completed, (await host.Get<GenerateService>().ProcessAsync("""{ "requestId": "q-1", "steps": 1 }""")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await SubmitAsync(WorkQueue.Generate, """{ "requestId": "q-1", "steps": 1 }""", Principal(A))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetStatusHttpAsync(WorkQueue.Generate, "q-1", Principal(A), "c")).Status);
    }

    [Fact]
    public async Task A_body_over_48_KiB_is_413()
    {
        var body = Edit("big-1").Replace("\"steps\"", $"\"pad\": \"{new string('x', RequestApiService.MaxBodyBytes)}\", \"steps\"", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await SubmitAsync(WorkQueue.Edits, body, Principal(A))).Status);
    }

    [Fact]
    public async Task A_multipart_edit_stores_its_image_under_its_name_queues_a_message_naming_it_and_completes()
    {
        var png = MageTestHost.RandomPng(11, 64, 48);
        var submitted = await SubmitFormAsync(Form("""{ "requestId": "mp-1", "kind": "inpaint", "boxes": [[0, 0, 64, 64]], "steps": 1 }""", png), Principal(A));
        Assert.Equal(HttpStatusCode.Accepted, submitted.Status);

        Assert.Equal(png, await UploadAsync("api/edits/mp-1/image"));
        var message = Assert.Single(await host.DrainAsync(host.Storage.EditsQueue));
        using (var queued = JsonDocument.Parse(message))
        {
            var source = queued.RootElement.GetProperty("source");
            Assert.Equal((host.Storage.UploadsContainer, "api/edits/mp-1/image"), (source.GetProperty("container").GetString(), source.GetProperty("name").GetString()));
            Assert.False(queued.RootElement.TryGetProperty("mask", out _));
        }

        Assert.Equal(WorkOutcome.Completed, (await host.Get<EditService>().ProcessAsync(message)).Status);
        Assert.Equal(RequestState.Completed, Status(await Api.GetStatusHttpAsync(WorkQueue.Edits, "mp-1", Principal(A), "c")).State);
    }

    [Fact]
    public async Task A_multipart_inpaint_with_a_mask_part_stores_both_and_completes()
    {
        var png = MageTestHost.RandomPng(12, 64, 64);
        var mask = MageTestHost.RandomPng(13, 256, 256);
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitFormAsync(Form("""{ "requestId": "mp-mask", "kind": "inpaint", "steps": 1 }""", png, mask), Principal(A))).Status);

        Assert.Equal(png, await UploadAsync("api/edits/mp-mask/image"));
        Assert.Equal(mask, await UploadAsync("api/edits/mp-mask/mask"));
        var message = Assert.Single(await host.DrainAsync(host.Storage.EditsQueue));
        using (var queued = JsonDocument.Parse(message))
        {
            Assert.Equal("api/edits/mp-mask/mask", queued.RootElement.GetProperty("mask").GetProperty("name").GetString());
        }

        Assert.Equal(WorkOutcome.Completed, (await host.Get<EditService>().ProcessAsync(message)).Status);

        // A mask not 256x256 is refused from its header.
        var small = await SubmitFormAsync(Form("""{ "requestId": "mp-mask-2", "kind": "inpaint" }""", png, MageTestHost.RandomPng(14, 64, 64)), Principal(A));
        Assert.Equal((HttpStatusCode.BadRequest, "mask is 64x64; it must be 256x256, the size edits work at."), (small.Status, Error(small)));
    }

    [Fact]
    public async Task A_multipart_retry_is_202_a_changed_body_or_another_caller_409_and_the_stored_image_never_changes()
    {
        var png = MageTestHost.RandomPng(15, 64, 64);
        const string Request = """{ "requestId": "mp-t", "kind": "inpaint", "boxes": [[0, 0, 64, 64]], "steps": 1 }""";
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitFormAsync(Form(Request, png), Principal(A))).Status);
        var stored = await host.Container(host.Storage.UploadsContainer).GetBlobClient("api/edits/mp-t/image").GetPropertiesAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await SubmitFormAsync(Form(Request, png), Principal(A))).Status);
        var otherImage = await SubmitFormAsync(Form(Request, MageTestHost.RandomPng(16, 64, 64)), Principal(A));
        var otherRequest = await SubmitFormAsync(Form(Request.Replace("\"steps\": 1", "\"steps\": 2", StringComparison.Ordinal), png), Principal(A));
        var otherCaller = await SubmitFormAsync(Form(Request, MageTestHost.RandomPng(17, 64, 64)), Principal(B));
        var json = await SubmitAsync(WorkQueue.Edits, Edit("mp-t"), Principal(A));

        Assert.Equal((HttpStatusCode.Conflict, "Edit mp-t already exists; its status is at /api/edits/mp-t."), (otherImage.Status, Error(otherImage)));
        Assert.Equal(HttpStatusCode.Conflict, otherRequest.Status);
        Assert.Equal((HttpStatusCode.Conflict, "The edit id mp-t is taken; choose another."), (otherCaller.Status, Error(otherCaller)));
        Assert.Equal(HttpStatusCode.Conflict, json.Status);
        Assert.Equal(png, await UploadAsync("api/edits/mp-t/image"));
        Assert.Equal(stored.Value.ETag, (await host.Container(host.Storage.UploadsContainer).GetBlobClient("api/edits/mp-t/image").GetPropertiesAsync()).Value.ETag);
        Assert.Equal(2, (await host.DrainAsync(host.Storage.EditsQueue)).Count);

        // A blob nobody recorded at the upload's name: the id is taken, and the blob is left as it is.
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("api/edits/mp-x/image").UploadAsync(BinaryData.FromString("theirs"));
        var foreign = await SubmitFormAsync(Form("""{ "requestId": "mp-x", "kind": "inpaint", "boxes": [[0, 0, 8, 8]] }""", png), Principal(A));
        Assert.Equal((HttpStatusCode.Conflict, "The edit id mp-x is taken; choose another."), (foreign.Status, Error(foreign)));
        Assert.Equal("theirs"u8.ToArray(), await UploadAsync("api/edits/mp-x/image"));
    }

    [Fact]
    public async Task Multipart_bodies_that_cannot_be_an_edit_are_refused_naming_the_part_and_nothing_is_stored_or_queued()
    {
        var png = MageTestHost.RandomPng(18, 64, 64);
        const string Request = """{ "requestId": "mp-bad", "kind": "inpaint", "boxes": [[0, 0, 8, 8]] }""";
        var source = $$"""{ "requestId": "mp-bad", "kind": "inpaint", "boxes": [[0, 0, 8, 8]], "source": { "container": "{{host.Storage.UploadsContainer}}", "name": "edit/src.png" } }""";
        var cases = new (MultipartFormDataContent Form, HttpStatusCode Status, string Error, string? Field)[]
        {
            (Form(Request, "not an image"u8.ToArray()), HttpStatusCode.BadRequest, "image is not an image this service reads: Image 'image' (12 bytes) is not in a recognised image format", "image"),
            (Form(source, png), HttpStatusCode.BadRequest, "request names source, which the service sets", "request.source"),
            (Form(Request.Replace("}", ", \"output\": { \"prefix\": \"x/\" } }", StringComparison.Ordinal), png), HttpStatusCode.BadRequest, "request names output", "request.output"),
            (Form(Request, null), HttpStatusCode.BadRequest, "image is missing", "image"),
            (Form(null, png), HttpStatusCode.BadRequest, "request is missing", "request"),
            (Form(Request, png, extra: ("colour", "red")), HttpStatusCode.BadRequest, "colour is not a part of an edit; the parts are request, image, mask.", "colour"),
            (Form(Request, png, extra: ("image", "again")), HttpStatusCode.BadRequest, "image is sent twice", "image"),
            (Form("""{ "requestId": "mp-bad", "kind": "outpaint", "right": 64 }""", png, MageTestHost.RandomPng(19, 256, 256)), HttpStatusCode.BadRequest, "mask is a field of kind inpaint, not of outpaint", "mask"),
            (Form("""{ "requestId": "mp-bad", "kind": "inpaint", "colour": "red", "boxes": [[0, 0, 8, 8]] }""", png), HttpStatusCode.BadRequest, "colour is not a known field", null),
            (Form("[1]", png), HttpStatusCode.BadRequest, "request must be a JSON object", "request"),
        };
        foreach (var (form, status, error, field) in cases)
        {
            var result = await SubmitFormAsync(form, Principal(A));
            Assert.True(result.Body is ApiProblem problem && problem.Field == field, $"{error}: {result.Status} {result.Body}");
            Assert.True(result.Status == status && Error(result).Contains(error, StringComparison.Ordinal), $"{error}: {result.Status} {Error(result)}");
        }

        // No boundary; multipart on generations; neither JSON nor multipart.
        var noBoundary = await Api.SubmitHttpAsync(WorkQueue.Edits, new MemoryStream("x"u8.ToArray()), With(Principal(A), "Content-Type", "multipart/form-data"), "c");
        Assert.Equal(HttpStatusCode.BadRequest, noBoundary.Status);
        Assert.StartsWith("Content-Type multipart/form-data needs a boundary", Error(noBoundary), StringComparison.Ordinal);
        var generation = await SubmitFormAsync(Form("""{ "requestId": "g-mp" }""", png), Principal(A), WorkQueue.Generate);
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "Content-Type multipart/form-data is for edits that bring their image; a generation is sent as application/json."), (generation.Status, Error(generation)));
        var text = await Api.SubmitHttpAsync(WorkQueue.Edits, new MemoryStream(Encoding.UTF8.GetBytes(Edit("mp-text"))), With(Principal(A), "Content-Type", "text/plain"), "c");
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "Content-Type text/plain is not accepted; send application/json, or multipart/form-data with the image."), (text.Status, Error(text)));
        Assert.Equal(HttpStatusCode.Accepted, (await Api.SubmitHttpAsync(WorkQueue.Edits, new MemoryStream(Encoding.UTF8.GetBytes(Edit("mp-json"))), With(Principal(A), "Content-Type", "application/json; charset=utf-8"), "c")).Status);

        Assert.Empty(await host.ListAsync(host.Storage.UploadsContainer, "api/"));
        Assert.Single(await host.DrainAsync(host.Storage.EditsQueue));
        Assert.Empty(await host.DrainAsync(host.Storage.GenerateQueue));
    }

    [Fact]
    public async Task A_multipart_body_or_image_over_its_cap_is_413_before_the_rest_is_read()
    {
        // Content-Length over the cap: nothing is read.
        var declared = new MemoryStream(new byte[100]);
        var headers = With(Principal(A), "Content-Type", "multipart/form-data; boundary=b");
        headers["Content-Length"] = [(RequestApiService.MaxUploadBodyBytes + 1L).ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var tooLong = await Api.SubmitHttpAsync(WorkQueue.Edits, declared, headers, "c");
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, $"The edit is larger than {RequestApiService.MaxUploadBodyBytes} bytes.", 0L), (tooLong.Status, Error(tooLong), declared.Position));

        // No Content-Length and an image part past the cap: at most the cap + 1 bytes are read.
        var over = Form("""{ "requestId": "mp-over", "kind": "inpaint", "boxes": [[0, 0, 8, 8]] }""", new byte[RequestApiService.MaxUploadBodyBytes + 4096]);
        var endless = new MemoryStream(await over.ReadAsByteArrayAsync());
        var tooMuch = await Api.SubmitHttpAsync(WorkQueue.Edits, endless, With(Principal(A), "Content-Type", over.Headers.ContentType!.ToString()), "c");
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, $"The edit is larger than {RequestApiService.MaxUploadBodyBytes} bytes."), (tooMuch.Status, Error(tooMuch)));
        Assert.True(endless.Position <= RequestApiService.MaxUploadBodyBytes + 1, $"{endless.Position} bytes read");

        // An image over MaxImageBytes: 413 naming it, and the reading stops there.
        await using var small = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Api:TrustAuthHeaders"] = "true", ["Mage:Limits:MaxImageBytes"] = "1000" });
        var big = Form("""{ "requestId": "mp-big", "kind": "inpaint", "boxes": [[0, 0, 8, 8]] }""", new byte[2_000_000]);
        var body = new MemoryStream(await big.ReadAsByteArrayAsync());
        var image = await small.Get<RequestApiService>().SubmitHttpAsync(WorkQueue.Edits, body, With(Principal(A), "Content-Type", big.Headers.ContentType!.ToString()), "c");
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "image is larger than 1000 bytes."), (image.Status, Error(image)));
        Assert.True(body.Position < 200_000, $"{body.Position} bytes read");
        Assert.Empty(await small.ListAsync(small.Storage.UploadsContainer, "api/"));
    }

    private static MultipartFormDataContent Form(string? request, byte[]? image, byte[]? mask = null, (string Name, string Value)? extra = null)
    {
        var form = new MultipartFormDataContent();
        if (request is not null)
        {
            form.Add(new StringContent(request, Encoding.UTF8, "application/json"), "request");
        }

        if (image is not null)
        {
            form.Add(new ByteArrayContent(image), "image", "cat.png");
        }

        if (mask is not null)
        {
            form.Add(new ByteArrayContent(mask), "mask", "mask.png");
        }

        if (extra is { } part)
        {
            form.Add(new StringContent(part.Value), part.Name);
        }

        return form;
    }

    private async Task<ApiResult> SubmitFormAsync(MultipartFormDataContent form, Dictionary<string, IEnumerable<string>> headers, WorkQueue queue = WorkQueue.Edits)
    {
        using (form)
        {
            var bytes = await form.ReadAsByteArrayAsync();
            return await Api.SubmitHttpAsync(queue, new MemoryStream(bytes), With(headers, "Content-Type", form.Headers.ContentType!.ToString()), "c");
        }
    }

    private async Task<byte[]> UploadAsync(string name) =>
        (await host.Container(host.Storage.UploadsContainer).GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray();

    private static Dictionary<string, IEnumerable<string>> With(Dictionary<string, IEnumerable<string>> headers, string name, string value) =>
        new(headers) { [name] = [value] };

    private string Edit(string id, bool output = false, string? container = null, string kind = "inpaint")
    {
        var source = new { container = container ?? host.Storage.UploadsContainer, name = "edit/src.png" };
        object message = kind == "outpaint"
            ? new { requestId = id, kind, source, right = 64, steps = 1 }
            : output
                ? new { requestId = id, kind, source, boxes = new[] { new[] { 0, 0, 64, 64 } }, steps = 1, output = new { prefix = "mine/" } }
                : new { requestId = id, kind, source, boxes = new[] { new[] { 0, 0, 64, 64 } }, steps = 1 };
        return JsonSerializer.Serialize(message);
    }

    private Task<ApiResult> SubmitAsync(WorkQueue queue, string body, Dictionary<string, IEnumerable<string>> headers) =>
        Api.SubmitHttpAsync(queue, new MemoryStream(Encoding.UTF8.GetBytes(body)), headers, "c");

    private static Dictionary<string, IEnumerable<string>> Principal(Guid id) =>
        ApiCallerTests.Headers(("X-MS-CLIENT-PRINCIPAL-ID", id.ToString()), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"));

    private static RequestApiStatus Status(ApiResult result)
    {
        Assert.Equal(HttpStatusCode.OK, result.Status);
        return Assert.IsType<RequestApiStatus>(result.Body);
    }

    private static string Error(ApiResult result) => Assert.IsType<ApiProblem>(result.Body).Detail;
}

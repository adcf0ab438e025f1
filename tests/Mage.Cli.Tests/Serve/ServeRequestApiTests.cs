using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Mage.Inference.Imaging;

namespace Mage.Cli.Tests.Serve;

/// <summary>
/// The edit API of <c>mage serve</c> end to end (docs/api.md, POST /api/edits): a real process with
/// <c>--with-worker</c> against Azurite, called with <see cref="HttpClient"/> as an Entra principal
/// (Mage__Api__TrustAuthHeaders on): the edit of an uploaded image is accepted, runs, and its PNG is
/// downloaded through the API; another principal gets 404; bad bodies 400; a taken id 409.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServeRequestApiTests(AzuriteFixture azurite)
{
    private const string Owner = "0a0a0a0a-0000-4000-8000-00000000000a";
    private const string Other = "0b0b0b0b-0000-4000-8000-00000000000b";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task An_edit_posted_to_serve_runs_and_its_owner_downloads_the_png()
    {
        var names = StorageNames.Environment("sre");
        names["Mage__Api__TrustAuthHeaders"] = "true";
        var uploads = new BlobContainerClient(azurite.ConnectionString, "sre-uploads");
        await uploads.CreateIfNotExistsAsync();
        using (var image = TestImages.Create(64, 48, seed: 301))
        {
            await uploads.GetBlobClient("cat.png").UploadAsync(BinaryData.FromBytes(PngEncoding.Encode(image)), overwrite: true);
        }

        var port = AzuriteFixture.FreePort();
        await using var serve = MageProcess.Start(names, "serve", "--with-worker", "--connection", azurite.ConnectionString, "--urls", $"http://127.0.0.1:{port}", "--model", Cli.TinyPackage, "--device", "cpu");
        await serve.WaitForErrorAsync("Worker started", StartTimeout);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var edit = """{ "requestId": "sre-1", "kind": "inpaint", "source": { "container": "sre-uploads", "name": "cat.png" }, "boxes": [[0, 0, 128, 128]], "steps": 2, "seed": 1 }""";
        using (var accepted = await SendAsync(http, HttpMethod.Post, "/api/edits", Owner, edit))
        {
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}\n{serve}");
            Assert.Equal($"http://127.0.0.1:{port}/api/edits/sre-1", accepted.Headers.Location?.ToString());
            Assert.Equal("""{"requestId":"sre-1","state":"queued"}""", await accepted.Content.ReadAsStringAsync());
            Assert.True(Guid.TryParse(Assert.Single(accepted.Headers.GetValues("x-correlation-id")), out _));
        }

        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Post, "/api/edits", Other, edit), HttpStatusCode.Conflict, "The edit id sre-1 is taken", "requestId");
        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Post, "/api/edits", Owner, edit.Replace("\"seed\": 1", "\"output\": { \"prefix\": \"mine/\" }", StringComparison.Ordinal)), HttpStatusCode.BadRequest, "output is set by the service", "output");
        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Post, "/api/edits", Owner, edit.Replace("sre-1", "sre-2", StringComparison.Ordinal).Replace("sre-uploads", "sre-results", StringComparison.Ordinal)), HttpStatusCode.BadRequest, "source.container 'sre-results' is not a container this service reads from", "source.container");

        var status = await WaitForCompletedAsync(http, "/api/edits/sre-1", serve);
        Assert.Equal(["/api/edits/sre-1/files/image-0.png", "/api/edits/sre-1/files/tokens.npy"], status.GetProperty("outputs").EnumerateArray().Select(o => o.GetString()));
        using (var png = await SendAsync(http, HttpMethod.Get, "/api/edits/sre-1/files/image-0.png", Owner))
        {
            Assert.Equal(HttpStatusCode.OK, png.StatusCode);
            Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
            AssertPng256(await png.Content.ReadAsByteArrayAsync());
        }

        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Get, "/api/edits/sre-1", Other), HttpStatusCode.NotFound, "No edit sre-1.");
        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Get, "/api/edits/sre-1/files/image-0.png", Other), HttpStatusCode.NotFound, "No edit sre-1.");
        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Get, "/api/edits/sre-1/files/result.json", Owner), HttpStatusCode.NotFound, "No file result.json");

        serve.Signal("TERM");
        Assert.True(await serve.WaitForExitAsync(TimeSpan.FromSeconds(10)) == 0, serve.ToString());
    }

    [Fact]
    public async Task A_multipart_edit_posted_to_serve_stores_its_image_runs_and_its_owner_downloads_the_png()
    {
        var names = StorageNames.Environment("smp");
        names["Mage__Api__TrustAuthHeaders"] = "true";
        byte[] png;
        using (var image = TestImages.Create(64, 48, seed: 302))
        {
            png = PngEncoding.Encode(image);
        }

        var port = AzuriteFixture.FreePort();
        await using var serve = MageProcess.Start(names, "serve", "--with-worker", "--connection", azurite.ConnectionString, "--urls", $"http://127.0.0.1:{port}", "--model", Cli.TinyPackage, "--device", "cpu");
        await serve.WaitForErrorAsync("Worker started", StartTimeout);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var form = new MultipartFormDataContent())
        {
            form.Add(new StringContent("""{ "requestId": "smp-1", "kind": "inpaint", "boxes": [[0, 0, 128, 128]], "steps": 2, "seed": 1 }""", Encoding.UTF8, "application/json"), "request");
            form.Add(new ByteArrayContent(png), "image", "cat.png");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/edits") { Content = form };
            request.Headers.Add("X-MS-CLIENT-PRINCIPAL-ID", Owner);
            request.Headers.Add("X-MS-CLIENT-PRINCIPAL-IDP", "aad");
            using var accepted = await http.SendAsync(request);
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}\n{serve}");
            Assert.Equal($"http://127.0.0.1:{port}/api/edits/smp-1", accepted.Headers.Location?.ToString());
        }

        var stored = await new BlobContainerClient(azurite.ConnectionString, "smp-uploads").GetBlobClient("api/edits/smp-1/image").DownloadContentAsync();
        Assert.Equal(png, stored.Value.Content.ToArray());
        await ServeCommandTests.AssertErrorAsync(await SendAsync(http, HttpMethod.Post, "/api/generations", Owner, """{ "requestId": "smp-g" }""", "text/plain"), HttpStatusCode.UnsupportedMediaType, "Content-Type text/plain is not accepted", "Content-Type");

        var status = await WaitForCompletedAsync(http, "/api/edits/smp-1", serve);
        Assert.Equal(["/api/edits/smp-1/files/image-0.png", "/api/edits/smp-1/files/tokens.npy"], status.GetProperty("outputs").EnumerateArray().Select(o => o.GetString()));
        using (var result = await SendAsync(http, HttpMethod.Get, "/api/edits/smp-1/files/image-0.png", Owner))
        {
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
            AssertPng256(await result.Content.ReadAsByteArrayAsync());
        }

        serve.Signal("TERM");
        Assert.True(await serve.WaitForExitAsync(TimeSpan.FromSeconds(10)) == 0, serve.ToString());
    }

    /// <summary>Polls the status of <paramref name="path"/> as its owner until it is completed; fails on any other end or after <see cref="RunTimeout"/>.</summary>
    private static async Task<JsonElement> WaitForCompletedAsync(HttpClient http, string path, MageProcess serve)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        JsonElement status = default;
        string? state = null;
        while (state != "completed")
        {
            Assert.True(waited.Elapsed < RunTimeout, $"edit state {state ?? "(none)"} after {waited.Elapsed.TotalSeconds:F0} s\n{serve}");
            await Task.Delay(250);
            using var response = await SendAsync(http, HttpMethod.Get, path, Owner);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
            status = JsonDocument.Parse(text).RootElement.Clone();
            state = status.GetProperty("state").GetString();
            Assert.True(state is "queued" or "running" or "completed", text);
        }

        return status;
    }

    /// <summary>The PNG signature, then IHDR's width and height: the edit of the square-preprocessed source is 256x256.</summary>
    private static void AssertPng256(byte[] bytes)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal((256, 256), (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string principal, string? json = null, string mediaType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-MS-CLIENT-PRINCIPAL-ID", principal);
        request.Headers.Add("X-MS-CLIENT-PRINCIPAL-IDP", "aad");
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, mediaType);
        }

        return http.SendAsync(request);
    }
}

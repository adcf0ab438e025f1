using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Inference.Imaging;
using Mage.Jobs.Storage;

namespace Mage.Cli.Tests.Serve;

/// <summary>
/// <c>mage serve</c> as a real process against Azurite, called with <see cref="HttpClient"/>: the
/// Functions app's answers (status, headers, JSON bodies) for a good job, an unknown id, a bad and
/// an oversized body; the job run by <c>mage worker --once</c> or by <c>--with-worker</c>; a signal
/// stops it with exit 0. Each test uses its own container and queue names.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServeCommandTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Serve_answers_as_the_functions_app_and_stops_on_sigint()
    {
        var names = StorageNames.Environment("srv");
        await UploadPngsAsync("srv-uploads", count: 2);

        // The jobs queue and container are not created here: serve creates them at start-up, as the Functions app does.
        var port = AzuriteFixture.FreePort();
        await using var serve = MageProcess.Start(names, "serve", "--connection", azurite.ConnectionString, "--urls", $"http://127.0.0.1:{port}");
        await serve.WaitForErrorAsync("mage serve: listening", StartTimeout);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var health = await http.GetAsync("/api/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("""{"status":"ok"}""", await health.Content.ReadAsStringAsync());
        }

        // No model in this process: embeddings are refused with how to get one.
        await AssertErrorAsync(await http.PostAsync("/api/embeddings", new StringContent("""{ "images": [{ "id": "a", "data": "AAAA" }] }""", Encoding.UTF8, "application/json")),
            HttpStatusCode.ServiceUnavailable, "--with-worker");

        using (var accepted = await PostAsync(http, """{ "jobId": "srv-job-1", "source": { "container": "srv-uploads", "prefix": "srv/" } }"""))
        {
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}\n{serve}");
            Assert.Equal($"http://127.0.0.1:{port}/api/jobs/srv-job-1", accepted.Headers.Location?.ToString());
            Assert.Equal("""{"jobId":"srv-job-1","status":"jobs/srv-job-1"}""", await accepted.Content.ReadAsStringAsync());
            Assert.Equal("application/json; charset=utf-8", accepted.Content.Headers.ContentType?.ToString());
            Assert.True(Guid.TryParse(Assert.Single(accepted.Headers.GetValues("x-correlation-id")), out _));
        }

        await AssertErrorAsync(await http.GetAsync("/api/jobs/srv-nobody"), HttpStatusCode.NotFound, "No job srv-nobody.");

        // A status document that is not JSON: a 500 problem with a correlation id the log shares, no exception text.
        await new BlobContainerClient(azurite.ConnectionString, "srv-jobs").GetBlobClient(ResultsLayout.JobStatus("srv-corrupt")).UploadAsync(BinaryData.FromString("{ not json"));
        using (var failed = await http.GetAsync("/api/jobs/srv-corrupt"))
        {
            var body = await failed.Content.ReadAsStringAsync();
            var id = Assert.Single(failed.Headers.GetValues("x-correlation-id"));
            await AssertErrorAsync(failed, HttpStatusCode.InternalServerError, $"correlation id {id}");
            Assert.DoesNotContain("JsonException", body, StringComparison.Ordinal);
            await serve.WaitForErrorAsync($"GET /api/jobs/srv-corrupt failed (correlation id {id})", StartTimeout);
        }
        await AssertErrorAsync(await http.GetAsync("/api/jobs/bad%20id"), HttpStatusCode.BadRequest, "jobId must be", "jobId");
        await AssertErrorAsync(await PostAsync(http, """{ "jobId": "srv-bad", "source": 7 }"""), HttpStatusCode.BadRequest, "source", "source");
        await AssertErrorAsync(await PostAsync(http, """{ "jobId": "srv-mine", "caller": "key", "source": { "container": "srv-uploads", "prefix": "srv/" } }"""), HttpStatusCode.BadRequest, "caller is set by the service", "caller");
        var blobs = string.Join(", ", Enumerable.Range(0, 2000).Select(i => $"\"srv/img-{i:D5}-padding-padding.png\""));
        await AssertErrorAsync(await PostAsync(http, $$"""{ "jobId": "srv-big", "source": { "container": "srv-uploads", "blobs": [{{blobs}}] } }"""), HttpStatusCode.RequestEntityTooLarge, "larger than 49152 bytes");

        await using (var worker = MageProcess.Start(names, "worker", "--once", "--quiet", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu"))
        {
            Assert.True(await worker.WaitForExitAsync(JobTimeout) == 0, worker.ToString());
        }

        using (var status = await http.GetAsync("/api/jobs/srv-job-1"))
        {
            var text = await status.Content.ReadAsStringAsync();
            Assert.True(status.StatusCode == HttpStatusCode.OK, $"{status.StatusCode}: {text}");
            Assert.Equal("application/json; charset=utf-8", status.Content.Headers.ContentType?.ToString());
            using var document = JsonDocument.Parse(text);

            // The Functions worker's serializer has no naming policy: the document's members as declared (docs/api.md).
            Assert.Equal("completed", document.RootElement.GetProperty("State").GetString());
            Assert.Equal("key", document.RootElement.GetProperty("Caller").GetString());
            Assert.Equal(2, document.RootElement.GetProperty("ImagesDone").GetInt32());
        }

        using (var list = await http.GetAsync("/api/jobs?limit=5"))
        {
            var text = await list.Content.ReadAsStringAsync();
            Assert.True(list.StatusCode == HttpStatusCode.OK, $"{list.StatusCode}: {text}");
            Assert.Contains("\"jobId\":\"srv-job-1\",\"state\":\"completed\"", text);
        }

        await AssertErrorAsync(await http.GetAsync("/api/jobs?limit=0"), HttpStatusCode.BadRequest, "limit must be", "limit");

        using (var openApi = await http.GetAsync("/api/openapi.json"))
        {
            Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
            using var document = JsonDocument.Parse(await openApi.Content.ReadAsStringAsync());
            Assert.Equal("3.0.3", document.RootElement.GetProperty("openapi").GetString());
        }

        serve.Signal("INT");
        Assert.True(await serve.WaitForExitAsync(StopTimeout) == 0, serve.ToString());
        Assert.Contains("mage serve: stopped.", serve.Error);
        Assert.DoesNotContain("Unhandled exception", serve.Error);
    }

    [Fact]
    public async Task Serve_with_worker_runs_the_job_it_accepted_and_stops_on_sigterm()
    {
        var names = StorageNames.Environment("srw");
        await UploadPngsAsync("srw-uploads", count: 2);
        var port = AzuriteFixture.FreePort();
        await using var serve = MageProcess.Start(names, "serve", "--with-worker", "--connection", azurite.ConnectionString, "--urls", $"http://127.0.0.1:{port}", "--model", Cli.TinyPackage, "--device", "cpu");
        await serve.WaitForErrorAsync("Worker started", StartTimeout);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var accepted = await PostAsync(http, """{ "jobId": "srw-job-1", "source": { "container": "srw-uploads", "prefix": "srv/" } }"""))
        {
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}\n{serve}");
        }

        using (var image = TestImages.Create(40, 40, seed: 7))
        using (var embedded = await http.PostAsync("/api/embeddings", new StringContent(
            JsonSerializer.Serialize(new { values = new[] { new { recordId = "r1", data = new { image = Convert.ToBase64String(PngEncoding.Encode(image)) } } } }), Encoding.UTF8, "application/json")))
        {
            var text = await embedded.Content.ReadAsStringAsync();
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, $"{embedded.StatusCode}: {text}\n{serve}");
            using var document = JsonDocument.Parse(text);
            var record = Assert.Single(document.RootElement.GetProperty("values").EnumerateArray());
            Assert.Equal("r1", record.GetProperty("recordId").GetString());
            Assert.True(record.GetProperty("data").GetProperty("vector").GetArrayLength() > 0, text);
            Assert.Equal(0, record.GetProperty("errors").GetArrayLength());
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        string? state = null;
        while (state != "completed")
        {
            Assert.True(waited.Elapsed < JobTimeout, $"job state {state ?? "(none)"} after {waited.Elapsed.TotalSeconds:F0} s\n{serve}");
            await Task.Delay(250);
            using var status = await http.GetAsync("/api/jobs/srw-job-1");
            if (status.StatusCode == HttpStatusCode.OK)
            {
                using var document = JsonDocument.Parse(await status.Content.ReadAsStringAsync());
                state = document.RootElement.GetProperty("State").GetString();
                Assert.NotEqual("failed", state);
            }
            else
            {
                // Not picked up from the queue yet: the same 404 as for an id nobody used.
                Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
            }
        }

        serve.Signal("TERM");
        Assert.True(await serve.WaitForExitAsync(StopTimeout) == 0, serve.ToString());
        Assert.Contains("mage serve: stopped.", serve.Error);
    }

    [Fact]
    public async Task Serve_with_create_missing_off_exits_1_naming_the_missing_storage()
    {
        var names = StorageNames.Environment("srm");
        names["Mage__Storage__CreateMissing"] = "false";
        await using var serve = MageProcess.Start(names, "serve", "--connection", azurite.ConnectionString, "--urls", $"http://127.0.0.1:{AzuriteFixture.FreePort()}");

        Assert.True(await serve.WaitForExitAsync(StartTimeout) == ExitCodes.Failure, serve.ToString());
        Assert.Contains("srm-uploads", serve.Error);
        Assert.Contains("Mage__Storage__CreateMissing", serve.Error);
        Assert.DoesNotContain("mage serve: listening", serve.Error);
        Assert.False(await new QueueClient(azurite.ConnectionString, "srm-jobs").ExistsAsync());
    }

    [Theory]
    [InlineData("https://127.0.0.1:7071", "is not http://HOST:PORT")]
    [InlineData("127.0.0.1:7071", "is not an address")]
    [InlineData(";", "names no address")]
    public async Task Bad_urls_exit_2_naming_the_value(string urls, string message)
    {
        var run = await Cli.RunAsync("serve", "--connection", azurite.ConnectionString, "--urls", urls);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(message, run.Error);
    }

    [Fact]
    public async Task Serve_without_storage_exits_2()
    {
        var run = await Cli.RunAsync("serve");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--connection", run.Error);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string json) =>
        http.PostAsync("/api/jobs", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>
    /// The error answer of docs/api.md, Errors: the status, an <c>application/problem+json</c> body whose
    /// <c>status</c> repeats it, <c>detail</c> containing <paramref name="error"/>, <c>field</c> equal to
    /// <paramref name="field"/> (absent when null), and the header equal to the body's <c>correlationId</c>.
    /// </summary>
    internal static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode expected, string error, string? field = null)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            Assert.Equal(field is null ? ["type", "title", "status", "detail", "correlationId"] : ["type", "title", "status", "detail", "field", "correlationId"],
                root.EnumerateObject().Select(p => p.Name));
            Assert.Equal((int)expected, root.GetProperty("status").GetInt32());
            Assert.Contains(error, root.GetProperty("detail").GetString());
            if (field is not null)
            {
                Assert.Equal(field, root.GetProperty("field").GetString());
            }
            Assert.Equal(Assert.Single(response.Headers.GetValues("x-correlation-id")), document.RootElement.GetProperty("correlationId").GetString());
        }
    }

    private async Task UploadPngsAsync(string container, int count)
    {
        var client = new BlobContainerClient(azurite.ConnectionString, container);
        await client.CreateIfNotExistsAsync();
        for (var i = 0; i < count; i++)
        {
            using var image = TestImages.Create(48, 48, seed: 200 + i);
            await client.GetBlobClient($"srv/img-{i:D2}.png").UploadAsync(BinaryData.FromBytes(PngEncoding.Encode(image)), overwrite: true);
        }
    }
}

using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Tests.Infrastructure;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.Tests.Storage;

/// <summary>Containers and queues that vanish after start-up: every request ends with an answer or a record naming what is missing.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class MissingResourceTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private MageTestHost host = null!;

    public async Task InitializeAsync() =>
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Storage:OutputContainers"] = "{results},no-such-output" });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Http_submit_without_the_jobs_queue_answers_503_naming_nothing_of_storage_and_logs_what_is_missing()
    {
        var log = new LogRecorder();
        await using var logged = await MageTestHost.StartAsync(azurite, services: services => services.AddSingleton<ILoggerProvider>(log));
        await logged.Queues.GetQueueClient(logged.Storage.JobsQueue).DeleteAsync();

        var result = await logged.Get<JobApiService>().SubmitAsync(Job(logged, "http-1"), ApiCaller.Key, "corr-missing-queue");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, result.Status);
        AssertTellsNothingOfStorage(result, "corr-missing-queue", logged.Queues.Uri.Authority);
        Assert.StartsWith("Job http-1 was not accepted: the service cannot reach its storage now; try again later.", Error(result), StringComparison.Ordinal);
        var line = Assert.Single(log.Messages, m => m.Contains("corr-missing-queue", StringComparison.Ordinal));
        Assert.Contains($"queue '{logged.Storage.JobsQueue}' in storage account 'devstoreaccount1' does not exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_requests_with_storage_unreachable_answer_503_naming_nothing_of_storage_and_log_the_account()
    {
        var port = AzuriteFixture.FreePort();
        var down = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteFixture.AccountKey};" +
                   $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        var blobOptions = new BlobClientOptions();
        blobOptions.Retry.MaxRetries = 0;
        var queueOptions = new QueueClientOptions();
        queueOptions.Retry.MaxRetries = 0;
        var log = new LogRecorder();
        var api = Api(new QueueServiceClient(down, queueOptions), new BlobServiceClient(down, blobOptions), new LimitSettings(), log);

        var submitted = await api.SubmitAsync(Job(host, "http-2"), ApiCaller.Key, "corr-down-submit");
        var read = await api.GetStatusAsync("http-2", ApiCaller.Key, "corr-down-status");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (submitted.Status, read.Status));
        AssertTellsNothingOfStorage(submitted, "corr-down-submit", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AssertTellsNothingOfStorage(read, "corr-down-status", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("The status of job http-2 cannot be read now: the service cannot reach its storage; try again later.", Error(read), StringComparison.Ordinal);
        foreach (var id in new[] { "corr-down-submit", "corr-down-status" })
        {
            var line = Assert.Single(log.Messages, m => m.Contains(id, StringComparison.Ordinal));
            Assert.Contains($"cannot reach storage account 'devstoreaccount1' at http://127.0.0.1:{port}", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Http_requests_to_storage_that_never_answers_end_with_503_after_the_api_timeout()
    {
        // Accepts connections and never answers: the SDK alone would wait out its retries (minutes).
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<System.Net.Sockets.TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                accepted.Add(await silent.AcceptTcpClientAsync(stop.Token));
            }
        });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var hung = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteFixture.AccountKey};" +
                   $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        var log = new LogRecorder();
        var api = Api(new QueueServiceClient(hung), new BlobServiceClient(hung), new LimitSettings { ApiTimeoutSeconds = 2 }, log);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var submitted = await api.SubmitAsync(Job(host, "http-3"), ApiCaller.Key, "corr-hung-submit");
        var read = await api.GetStatusAsync("http-3", ApiCaller.Key, "corr-hung-status");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:F0} s");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (submitted.Status, read.Status));
        Assert.Equal("Job http-3 may not have been accepted: the service's storage did not answer in time. Submitting it again is safe. Correlation id corr-hung-submit.", Error(submitted));
        AssertTellsNothingOfStorage(submitted, "corr-hung-submit", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AssertTellsNothingOfStorage(read, "corr-hung-status", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(
            $"storage account 'devstoreaccount1' at http://127.0.0.1:{port} did not answer within 2 s (checking container '{host.Storage.JobsContainer}')",
            Assert.Single(log.Messages, m => m.Contains("corr-hung-submit", StringComparison.Ordinal)),
            StringComparison.Ordinal);
        Assert.Contains("did not answer within 2 s", Assert.Single(log.Messages, m => m.Contains("corr-hung-status", StringComparison.Ordinal)), StringComparison.Ordinal);
        await stop.CancelAsync();
        await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        accepted.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Submit_job_recreates_a_deleted_jobs_container_and_runs()
    {
        await host.Container(host.Storage.UploadsContainer).GetBlobClient("set/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(1)));
        await host.Container(host.Storage.JobsContainer).DeleteAsync();

        var status = await host.Get<SubmitJobService>().SubmitAsync(Job("gone-1"));

        Assert.NotNull(status);
        Assert.Equal(JobState.Running, status.State);
        Assert.Equal(1, status.ImagesTotal);
        Assert.Single(await host.DrainAsync(host.Storage.ShardsQueue));
    }

    [Fact]
    public async Task Submit_job_that_may_not_recreate_the_jobs_container_publishes_a_failed_event_naming_it()
    {
        var names = new Dictionary<string, string?>
        {
            ["Mage:Storage:UploadsContainer"] = host.Storage.UploadsContainer,
            ["Mage:Storage:ResultsContainer"] = host.Storage.ResultsContainer,
            ["Mage:Storage:JobsContainer"] = host.Storage.JobsContainer,
            ["Mage:Storage:JobsQueue"] = host.Storage.JobsQueue,
            ["Mage:Storage:ShardsQueue"] = host.Storage.ShardsQueue,
            ["Mage:Storage:EditsQueue"] = host.Storage.EditsQueue,
            ["Mage:Storage:GenerateQueue"] = host.Storage.GenerateQueue,
            ["Mage:Storage:EventsQueue"] = host.Storage.EventsQueue,
            ["Mage:Storage:CreateMissing"] = "false",
        };
        await using var strict = await MageTestHost.StartAsync(azurite, names);
        await strict.Container(strict.Storage.JobsContainer).DeleteAsync();

        var status = await strict.Get<SubmitJobService>().SubmitAsync(Job("gone-2"));

        Assert.Null(status);
        Assert.False(await strict.Container(strict.Storage.JobsContainer).ExistsAsync());
        using var evt = JsonDocument.Parse(Assert.Single(await strict.DrainAsync(strict.Storage.EventsQueue)));
        Assert.Equal("mage.job.failed", evt.RootElement.GetProperty("type").GetString());
        Assert.Equal("jobs/gone-2", evt.RootElement.GetProperty("subject").GetString());
        Assert.Contains($"container '{strict.Storage.JobsContainer}' in storage account 'devstoreaccount1' does not exist", evt.RootElement.GetProperty("data").GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edit")]
    [InlineData("generate")]
    public async Task Request_with_a_missing_output_container_leaves_an_error_record_naming_it(string service)
    {
        var output = new { container = "no-such-output", prefix = "mine/" };
        var message = service == "edit"
            ? JsonSerializer.Serialize(new { requestId = "out-1", kind = "uncrop", scale = 0.5, steps = 2, source = new { container = host.Storage.UploadsContainer, name = "x.png" }, output })
            : JsonSerializer.Serialize(new { requestId = "out-1", count = 1, steps = 2, output });
        Task<RequestOutcome> Deliver() => service == "edit" ? host.Get<EditService>().ProcessAsync(message) : host.Get<GenerateService>().ProcessAsync(message);
        var outcome = await Deliver();

        // Nowhere to write where it asked: the error goes to the channel's refusals folder in the results container.
        var prefix = service == "edit" ? "edits/_refused/out-1/" : "generate/_refused/out-1/";
        Assert.Equal(WorkOutcome.Failed, outcome.Status);
        Assert.StartsWith(prefix, outcome.Folder, StringComparison.Ordinal);
        Assert.StartsWith("missing: output container 'no-such-output' in storage account 'devstoreaccount1' does not exist.", outcome.Error, StringComparison.Ordinal);
        Assert.Equal([outcome.Folder + "error.json"], await host.ListAsync(host.Storage.ResultsContainer, prefix));
        Assert.Empty(await host.ListAsync(host.Storage.ResultsContainer, "mine/"));
        using var error = JsonDocument.Parse((await host.Container(host.Storage.ResultsContainer).GetBlobClient(outcome.Folder + "error.json").DownloadContentAsync()).Value.Content);
        Assert.Equal("missing", error.RootElement.GetProperty("reason").GetString());
        Assert.Contains("'no-such-output'", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(await host.Container("no-such-output").ExistsAsync());
        using var evt = JsonDocument.Parse(Assert.Single(await host.DrainAsync(host.Storage.EventsQueue)));
        Assert.Equal($"mage.{service}.failed", evt.RootElement.GetProperty("type").GetString());

        // A second copy of the message writes and publishes nothing more.
        var again = await Deliver();
        Assert.Equal(WorkOutcome.Failed, again.Status);
        Assert.Equal([outcome.Folder + "error.json"], await host.ListAsync(host.Storage.ResultsContainer, prefix));
        Assert.Empty(await host.DrainAsync(host.Storage.EventsQueue));
    }

    [Fact]
    public async Task Generate_recreates_a_deleted_default_results_container()
    {
        await host.Container(host.Storage.ResultsContainer).DeleteAsync();

        var outcome = await host.Get<GenerateService>().ProcessAsync("""{ "requestId": "res-1", "count": 1, "steps": 2 }""");

        Assert.Equal(WorkOutcome.Completed, outcome.Status);
        Assert.Contains("generate/res-1/result.json", await host.ListAsync(host.Storage.ResultsContainer, "generate/res-1/"));
    }

    private string Job(string jobId) => Job(host, jobId);

    private static string Job(MageTestHost on, string jobId) =>
        JsonSerializer.Serialize(new { jobId, source = new { container = on.Storage.UploadsContainer, prefix = "set/" } });

    /// <summary>The job API over the given clients, with this class's storage names, logging into <paramref name="log"/>.</summary>
    private JobApiService Api(QueueServiceClient queues, BlobServiceClient blobs, LimitSettings limits, LogRecorder log)
    {
        var storage = Microsoft.Extensions.Options.Options.Create(host.Storage);
        return new JobApiService(
            queues, new JobStatusStore(blobs, storage), storage, Microsoft.Extensions.Options.Options.Create(limits),
            Microsoft.Extensions.Options.Options.Create(new ApiSettings()), log.For<JobApiService>());
    }

    /// <summary>
    /// The answer is a problem (<c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, <c>correlationId</c>; no field) with <paramref name="correlationId"/>, and names no
    /// account, endpoint, role or setting (docs/api.md, Errors): those are for the log.
    /// </summary>
    private static void AssertTellsNothingOfStorage(ApiResult result, string correlationId, string endpointPart)
    {
        var json = JsonSerializer.Serialize(result.Body);
        using var body = JsonDocument.Parse(json);
        Assert.Equal(["correlationId", "detail", "status", "title", "type"], body.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(correlationId, body.RootElement.GetProperty("correlationId").GetString());
        Assert.Equal(correlationId, result.CorrelationId);
        Assert.Contains(correlationId, Error(result), StringComparison.Ordinal);
        foreach (var secret in new[] { "devstoreaccount1", "127.0.0.1", "blob.core", "Storage Blob Data", "Storage Queue Data", "Mage__", "MageStorage", endpointPart })
        {
            Assert.DoesNotContain(secret, json, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string Error(ApiResult result)
    {
        using var body = JsonDocument.Parse(JsonSerializer.Serialize(result.Body));
        return body.RootElement.GetProperty("detail").GetString()!;
    }
}

using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Mage.Inference.Imaging;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Outputs;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Cli.Tests;

/// <summary>
/// mage job submit/status, queue send and worker --once against a real Azurite (shared fixture
/// source with Mage.Functions.Tests). Tests of this collection run one at a time, and each
/// worker run drains every queue, so each test asserts only on its own ids and containers.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class JobAndWorkerTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private string Conn => azurite.ConnectionString;

    private BlobServiceClient Blobs => new(Conn);

    private QueueClient Queue(string name, QueueMessageEncoding encoding = QueueMessageEncoding.Base64) =>
        new(Conn, name, new QueueClientOptions { MessageEncoding = encoding });

    private Task<CliRun> WorkerOnceAsync() => Cli.RunAsync("worker", "--once", "--model", Cli.TinyPackage, "--device", "cpu", "--connection", Conn);

    private async Task UploadPngsAsync(string container, string prefix, int count, int size = 48)
    {
        var client = Blobs.GetBlobContainerClient(container);
        await client.CreateIfNotExistsAsync();
        for (var i = 0; i < count; i++)
        {
            using var image = TestImages.Create(size, size, seed: 100 + i);
            await client.GetBlobClient($"{prefix}img-{i:D2}.png").UploadAsync(BinaryData.FromBytes(PngEncoding.Encode(image)), overwrite: true);
        }
    }

    private async Task<List<string>> ListAsync(string container, string prefix)
    {
        var names = new List<string>();
        await foreach (var item in Blobs.GetBlobContainerClient(container).GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, default))
        {
            names.Add(item.Name);
        }

        return names;
    }

    [Fact]
    public async Task Job_submit_enqueues_the_app_message_and_status_appears_after_worker_once()
    {
        await UploadPngsAsync("photos", "set1/", 3);

        var submit = await Cli.RunAsync("job", "submit", "--source-container", "photos", "--blobs", "set1/img-00.png,set1/img-01.png,set1/img-02.png",
            "--job-id", "submit-1", "--pooling", "cls", "--normalize", "--shard-size", "2", "--connection", Conn);

        Assert.True(submit.ExitCode == 0, submit.ToString());
        Assert.Contains("submit-1", submit.Out);
        Assert.Contains("mage job status submit-1", submit.Out);
        var peeked = (await Queue("mage-jobs").PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).Single(b => b.Contains("submit-1", StringComparison.Ordinal));
        var parsed = JobMessageParser.Parse(peeked, new Mage.Jobs.Options.LimitSettings(), new Mage.Jobs.Options.StorageSettings { SourceContainers = "photos" });
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal("photos", parsed.Spec!.SourceContainer);
        Assert.Equal(["set1/img-00.png", "set1/img-01.png", "set1/img-02.png"], parsed.Spec.Blobs!);
        Assert.Equal(Mage.Inference.Runtime.FeaturePooling.Cls, parsed.Spec.Recipe.Pooling);
        Assert.True(parsed.Spec.Recipe.Normalize);
        Assert.Equal(2, parsed.Spec.ShardSize);
        Assert.Equal("jobs/submit-1/", parsed.Spec.OutputPrefix);

        var worker = await WorkerOnceAsync();
        Assert.True(worker.ExitCode == 0, worker.ToString());

        var json = await Cli.RunAsync("job", "status", "submit-1", "--json", "--connection", Conn);
        Assert.True(json.ExitCode == 0, json.ToString());
        var status = JsonSerializer.Deserialize<JobStatus>(json.Out, JsonDefaults.Documents)!;
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(3, status.ImagesDone);
        Assert.Equal(2, status.ShardsDone);

        var table = await Cli.RunAsync("job", "status", "submit-1", "--connection", Conn);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("completed", table.Out);
        Assert.Contains("3 done, 0 failed of 3", table.Out);

        var taken = await Cli.RunAsync("job", "submit", "--source-container", "photos", "--prefix", "set1/", "--job-id", "submit-1", "--connection", Conn);
        Assert.Equal(1, taken.ExitCode);
        Assert.Contains("already exists", taken.Error);
    }

    [Fact]
    public async Task Job_submit_with_a_list_blob_enqueues_a_message_naming_it()
    {
        var submit = await Cli.RunAsync("job", "submit", "--source-container", "photos", "--list-blob", "lists/day-1.txt", "--job-id", "submit-list-1", "--connection", Conn);

        Assert.True(submit.ExitCode == 0, submit.ToString());
        var peeked = (await Queue("mage-jobs").PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).Single(b => b.Contains("submit-list-1", StringComparison.Ordinal));
        var parsed = JobMessageParser.Parse(peeked, new Mage.Jobs.Options.LimitSettings(), new Mage.Jobs.Options.StorageSettings { SourceContainers = "photos" });
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(("lists/day-1.txt", (string?)null, (IReadOnlyList<string>?)null), (parsed.Spec!.BlobList, parsed.Spec.SourcePrefix, parsed.Spec.Blobs));
    }

    [Fact]
    public async Task Worker_once_processes_an_upload_a_bulk_job_an_edit_and_a_generation()
    {
        await UploadPngsAsync("bulk", "b/", 20, size: 40);
        await UploadPngsAsync("uploads", "w2/", 1, size: 64);
        Assert.Equal(0, (await Cli.RunAsync("job", "submit", "--source-container", "bulk", "--prefix", "b/", "--job-id", "bulk-20", "--shard-size", "6", "--connection", Conn)).ExitCode);
        File.WriteAllText(temp["edit.json"], """{ "requestId": "w2-edit", "kind": "inpaint", "source": { "container": "uploads", "name": "w2/img-00.png" }, "boxes": [[16, 16, 32, 32]], "steps": 2, "seed": 1 }""");
        File.WriteAllText(temp["gen.json"], """{ "requestId": "w2-gen", "count": 2, "steps": 2, "seed": 5 }""");
        Assert.Equal(0, (await Cli.RunAsync("queue", "send", "edits", temp["edit.json"], "--connection", Conn)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("queue", "send", "generate", temp["gen.json"], "--connection", Conn)).ExitCode);

        var worker = await WorkerOnceAsync();

        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.Contains("shard committed 4", worker.Out);

        var upload = await ListAsync("results", "uploads/w2/img-00.png/");
        Assert.Contains(upload, n => n.EndsWith("/record.json", StringComparison.Ordinal));
        Assert.Contains(upload, n => n.EndsWith("/embedding.npy", StringComparison.Ordinal));
        Assert.Contains(upload, n => n.EndsWith("/tokens.npy", StringComparison.Ordinal));

        var parts = await ListAsync("results", "jobs/bulk-20/out/");
        Assert.Equal(4, parts.Count);
        var names = new List<string>();
        foreach (var part in parts)
        {
            using var stream = (await Blobs.GetBlobContainerClient("results").GetBlobClient(part).DownloadContentAsync()).Value.Content.ToStream();
            names.AddRange((await ParquetTable.ReadAsync<EmbeddingRow>(stream)).Select(r => { Assert.Null(r.Error); return r.Name; }));
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"b/img-{i:D2}.png"), names.Order(StringComparer.Ordinal));

        Assert.Equal(["edits/w2-edit/image-0.png", "edits/w2-edit/result.json", "edits/w2-edit/tokens.npy"], (await ListAsync("results", "edits/w2-edit/")).Order(StringComparer.Ordinal));
        Assert.Equal(["generate/w2-gen/image-0.png", "generate/w2-gen/image-1.png", "generate/w2-gen/result.json", "generate/w2-gen/tokens.npy"], (await ListAsync("results", "generate/w2-gen/")).Order(StringComparer.Ordinal));

        var download = await Cli.RunAsync("blob", "download", "--prefix", "edits/w2-edit/", "--out", temp["out"], "--connection", Conn);
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.True(File.Exists(Path.Combine(temp["out"], "edits", "w2-edit", "image-0.png")));
    }

    [Fact]
    public async Task A_tokens_job_writes_the_ids_mage_tokenize_gives_for_the_same_images()
    {
        var container = Blobs.GetBlobContainerClient("tokphotos");
        await container.CreateIfNotExistsAsync();
        var files = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var file = TestImages.SavePng(temp[$"tok-{i}.png"], 40 + (7 * i), 64, seed: 300 + i);
            files.Add(file);
            await container.GetBlobClient($"t/{Path.GetFileName(file)}").UploadAsync(file, overwrite: true);
        }

        var submit = await Cli.RunAsync("job", "submit", "--kind", "tokens", "--source-container", "tokphotos", "--prefix", "t/", "--preprocess", "square",
            "--job-id", "tokens-5", "--shard-size", "2", "--connection", Conn);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        var worker = await WorkerOnceAsync();
        Assert.True(worker.ExitCode == 0, worker.ToString());

        var fromJob = new Dictionary<string, long[]>();
        foreach (var part in (await ListAsync("results", "jobs/tokens-5/out/")).Where(n => n.EndsWith(".parquet", StringComparison.Ordinal)))
        {
            using var stream = (await Blobs.GetBlobContainerClient("results").GetBlobClient(part).DownloadContentAsync()).Value.Content.ToStream();
            foreach (var row in await ParquetTable.ReadAsync<TokenRow>(stream))
            {
                Assert.Null(row.Error);
                fromJob.Add(row.Name, [.. row.Tokens!]);
            }
        }

        var tokenize = await Cli.RunTinyAsync(["tokenize", .. files, "--preprocess", "square", "--out", temp["cli.npy"]]);
        Assert.True(tokenize.ExitCode == 0, tokenize.ToString());
        var cli = Mage.Inference.Numpy.NpyFile.Read(temp["cli.npy"]).AsInt64().ToArray();
        var order = File.ReadAllLines(temp["cli.index.txt"]);
        Assert.Equal(5, fromJob.Count);
        for (var r = 0; r < order.Length; r++)
        {
            var expected = cli.AsSpan(r * 256, 256).ToArray();
            Assert.Equal(expected, fromJob[$"t/{Path.GetFileName(order[r])}"]);
        }

        var status = JsonSerializer.Deserialize<JobStatus>((await Cli.RunAsync("job", "status", "tokens-5", "--json", "--connection", Conn)).Out, JsonDefaults.Documents)!;
        Assert.Equal(JobKind.Tokens, status.Kind);
        Assert.Equal(5, status.ImagesDone);
    }

    [Fact]
    public async Task Bad_messages_end_in_failed_records_or_the_poison_queue_and_the_worker_carries_on()
    {
        await Queue("mage-jobs").CreateIfNotExistsAsync();
        await Queue("mage-edits").CreateIfNotExistsAsync();
        await Queue("mage-generate").CreateIfNotExistsAsync();
        await Queue("mage-jobs").SendMessageAsync("{ this is not json");
        await Queue("mage-jobs").SendMessageAsync("""{ "jobId": "bad-1", "source": 7 }""");
        await Queue("mage-edits").SendMessageAsync("""{ "requestId": "bad-edit", "kind": "paint" """);
        await Queue("mage-generate", QueueMessageEncoding.None).SendMessageAsync("not base64 at all!");

        var worker = await WorkerOnceAsync();

        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.Contains("generate poisoned 1", worker.Out);
        Assert.NotEmpty(await ListAsync("jobs", "rejected/"));
        Assert.Contains(await ListAsync("results", "edits/_rejected/"), n => n.EndsWith("/error.json", StringComparison.Ordinal));
        var poison = (await Queue("mage-generate-poison", QueueMessageEncoding.None).PeekMessagesAsync(32)).Value;
        Assert.Contains(poison, m => m.Body.ToString() == "not base64 at all!");

        var status = await Cli.RunAsync("job", "status", "bad-1", "--connection", Conn);
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("failed", status.Out);
        Assert.Contains("source", status.Out);
    }

    [Fact]
    public async Task Names_too_long_for_Azure_and_reads_storage_refuses_end_in_error_records_never_in_a_poison_queue()
    {
        // Azurite stores all of these (it checks neither 1,024 characters nor 254 segments); Azure would refuse the results paths.
        var longUpload = string.Join('/', Enumerable.Repeat(new string('w', 32), 29)) + "/" + new string('z', 39) + ".png"; // 1,000 characters, 30 segments
        var deepUpload = "w5/" + string.Join('/', Enumerable.Repeat("d", 258)) + "/x.png"; // 260 segments
        await UploadPngsAsync("w5src", "w5/", 1);
        var source = Blobs.GetBlobContainerClient("w5src");
        using var image = TestImages.Create(48, 48, seed: 7);
        var png = BinaryData.FromBytes(PngEncoding.Encode(image));
        await source.GetBlobClient("w5/archived.png").UploadAsync(png, overwrite: true);
        await source.GetBlobClient("w5/archived.png").SetAccessTierAsync(AccessTier.Archive); // reads answer 409 BlobArchived
        var uploads = Blobs.GetBlobContainerClient("uploads");
        await uploads.CreateIfNotExistsAsync();
        await uploads.GetBlobClient(longUpload).UploadAsync(png, overwrite: true);
        await uploads.GetBlobClient(deepUpload).UploadAsync(png, overwrite: true);
        var tooLong = "w5/" + new string('n', 1100);
        File.WriteAllText(temp["job.json"], JsonSerializer.Serialize(new { jobId = "w5-job", source = new { container = "w5src", blobs = new[] { "w5/img-00.png", tooLong, "w5/archived.png" } } }));
        File.WriteAllText(temp["long-out.json"], JsonSerializer.Serialize(new { jobId = "w5-long-out", source = new { container = "w5src", prefix = "w5/" }, output = new { prefix = new string('o', 1000) } }));
        var editLong = JsonSerializer.Serialize(new { requestId = "w5-edit-long", kind = "uncrop", scale = 0.5, steps = 2, source = new { container = "w5src", name = "w5/img-00.png" }, output = new { prefix = new string('o', 950) } });
        File.WriteAllText(temp["edit-long.json"], editLong);
        File.WriteAllText(temp["edit-cold.json"], JsonSerializer.Serialize(new { requestId = "w5-edit-cold", kind = "uncrop", scale = 0.5, steps = 2, source = new { container = "w5src", name = "w5/archived.png" } }));
        foreach (var (queue, file) in new[] { ("jobs", "job.json"), ("jobs", "long-out.json"), ("edits", "edit-long.json"), ("edits", "edit-cold.json") })
        {
            Assert.Equal(0, (await Cli.RunAsync("queue", "send", queue, temp[file], "--connection", Conn)).ExitCode);
        }

        var worker = await WorkerOnceAsync();

        Assert.True(worker.ExitCode == 0, worker.ToString());
        Assert.DoesNotContain("poisoned", worker.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("abandoned", worker.Out, StringComparison.Ordinal);
        foreach (var poison in new[] { "mage-jobs-poison", "mage-shards-poison", "mage-edits-poison" })
        {
            var queue = Queue(poison, QueueMessageEncoding.None);
            if ((await queue.ExistsAsync()).Value)
            {
                Assert.DoesNotContain((await queue.PeekMessagesAsync(32)).Value, m => Decoded(m.Body.ToString()).Contains("w5-", StringComparison.Ordinal));
            }
        }

        // Each upload: error.json (nameTooLong) under uploads/_invalid/{name-hash}/{etag-hash}/.
        var reasons = new Dictionary<string, string>();
        foreach (var name in (await ListAsync("results", "uploads/_invalid/")).Where(n => n.EndsWith("/error.json", StringComparison.Ordinal)))
        {
            using var record = JsonDocument.Parse((await Blobs.GetBlobContainerClient("results").GetBlobClient(name).DownloadContentAsync()).Value.Content);
            reasons[record.RootElement.GetProperty("source").GetProperty("name").GetString()!] = record.RootElement.GetProperty("reason").GetString()!;
        }

        Assert.Equal("nameTooLong", reasons[longUpload]);
        Assert.Equal("nameTooLong", reasons[deepUpload]);

        var job = await StatusJsonAsync("w5-job");
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.Equal(2, job.GetProperty("imagesFailed").GetInt64());
        using (var stream = (await Blobs.GetBlobContainerClient("results").GetBlobClient("jobs/w5-job/out/part-000000.parquet").DownloadContentAsync()).Value.Content.ToStream())
        {
            var rows = (await ParquetTable.ReadAsync<EmbeddingRow>(stream)).ToDictionary(r => r.Name);
            Assert.Null(rows["w5/img-00.png"].Error);
            Assert.StartsWith("nameTooLong: ", rows[tooLong].Error, StringComparison.Ordinal);
            Assert.StartsWith("invalidRequest: image w5src/w5/archived.png cannot be read: storage answered 409 BlobArchived", rows["w5/archived.png"].Error, StringComparison.Ordinal);
        }

        var longOut = await StatusJsonAsync("w5-long-out");
        Assert.Equal("failed", longOut.GetProperty("state").GetString());
        Assert.StartsWith("nameTooLong: output.prefix: ", longOut.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // A prefix too long to hold the request's folder: error.json under edits/_rejected/{body-hash}/.
        Assert.Equal("nameTooLong", await ReasonAsync(ResultsLayout.Error(ResultsLayout.RejectedRequestFolder(EditService.DefaultPrefix, MessageJson.Hash(editLong)))));
        Assert.Equal("invalidRequest", await ReasonAsync(ResultsLayout.Error(ResultsLayout.RequestFolder(EditService.DefaultPrefix, "w5-edit-cold"))));
    }

    /// <summary>A poison queue's body as the worker received it: base64 text decoded, anything else as it is.</summary>
    private static string Decoded(string body)
    {
        var bytes = new byte[body.Length];
        return Convert.TryFromBase64String(body, bytes, out var length) ? Encoding.UTF8.GetString(bytes, 0, length) : body;
    }

    private async Task<string?> ReasonAsync(string errorJson)
    {
        using var record = JsonDocument.Parse((await Blobs.GetBlobContainerClient("results").GetBlobClient(errorJson).DownloadContentAsync()).Value.Content);
        return record.RootElement.GetProperty("reason").GetString();
    }

    private async Task<JsonElement> StatusJsonAsync(string jobId)
    {
        using var status = JsonDocument.Parse((await Blobs.GetBlobContainerClient("jobs").GetBlobClient($"jobs/{jobId}/status.json").DownloadContentAsync()).Value.Content);
        return status.RootElement.Clone();
    }

    [Fact]
    public async Task Status_of_a_job_still_listing_says_its_totals_are_so_far()
    {
        var jobs = Blobs.GetBlobContainerClient("jobs");
        await jobs.CreateIfNotExistsAsync();
        var now = DateTimeOffset.UtcNow;
        var listing = new JobStatus { JobId = "still-listing", State = JobState.Listing, CreatedAt = now, UpdatedAt = now, ShardsTotal = 4, ImagesTotal = 1024, Stripes = 64 };
        await jobs.GetBlobClient("jobs/still-listing/status.json").UploadAsync(BinaryData.FromObjectAsJson(listing, JsonDefaults.Documents), overwrite: true);

        var table = await Cli.RunAsync("job", "status", "still-listing", "--connection", Conn);

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("0 done, 0 failed of 4 listed so far", table.Out);
        Assert.Contains("0 done, 0 failed of 1,024 listed so far", table.Out);
    }

    [Fact]
    public async Task Status_of_an_unknown_job_exits_1_naming_it()
    {
        var run = await Cli.RunAsync("job", "status", "no-such-job", "--connection", Conn);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no job 'no-such-job'", run.Error);
    }

    [Theory]
    [InlineData(new[] { "job", "submit", "--source-container", "photos" }, "exactly one of --prefix, --blobs, --blobs-file and --list-blob")]
    [InlineData(new[] { "job", "submit", "--source-container", "photos", "--prefix", "a/", "--blobs", "x" }, "exactly one of --prefix")]
    [InlineData(new[] { "job", "submit", "--source-container", "Bad_Name", "--prefix", "a/" }, "not a valid container name")]
    [InlineData(new[] { "job", "submit", "--source-container", "photos", "--blobs", "../x.png" }, "'..'")]
    public async Task Bad_job_submissions_are_usage_errors(string[] args, string message)
    {
        var run = await Cli.RunAsync([.. args, "--connection", Conn]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
    }

    [Fact]
    public async Task Storage_commands_need_exactly_one_connection()
    {
        var none = await Cli.RunAsync("job", "status", "x");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("exactly one of --connection", none.Error);

        var url = await Cli.RunAsync("job", "status", "x", "--connection", "https://example.com/");
        Assert.Equal(2, url.ExitCode);
        Assert.Contains("account blob URL", url.Error);
    }

    [Fact]
    public void Cli_build_output_has_the_cpu_runtime_and_no_cuda_natives_or_functions_app()
    {
        var output = Cli.BuildOutput;
        var natives = Path.Combine(output, "runtimes", "linux-x64", "native");
        Assert.True(File.Exists(Path.Combine(natives, "libonnxruntime.so")), natives);
        Assert.False(File.Exists(Path.Combine(natives, "libonnxruntime_providers_cuda.so")));
        Assert.True(File.Exists(Path.Combine(output, "Mage.Jobs.dll")));
        Assert.False(File.Exists(Path.Combine(output, "Mage.Functions.dll")));
        Assert.False(File.Exists(Path.Combine(output, "host.json")));
    }
}

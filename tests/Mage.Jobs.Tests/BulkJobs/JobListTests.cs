using System.Net;
using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Tests.Http;
using Mage.Jobs.Tests.Infrastructure;

namespace Mage.Jobs.Tests.BulkJobs;

/// <summary>
/// <c>GET /api/jobs</c> through <see cref="JobApiService.ListHttpAsync"/> against Azurite: each
/// caller sees only the jobs it may read (docs/api.md, Callers), newest first, at most <c>limit</c>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class JobListTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Dictionary<string, IEnumerable<string>> A = Principal("0a0a0a0a-0000-4000-8000-00000000000a");
    private static readonly Dictionary<string, IEnumerable<string>> B = Principal("0b0b0b0b-0000-4000-8000-00000000000b");
    private static readonly Dictionary<string, IEnumerable<string>> KeyOnly = ApiCallerTests.Headers(("x-functions-key", "k"));
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private MageTestHost host = null!;

    public async Task InitializeAsync()
    {
        host = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Api:TrustAuthHeaders"] = "true" });

        // Created in this order, each a minute after the one before; a shard document and a stripe
        // beside them are listed too and must not count as jobs.
        var store = host.Get<JobStatusStore>();
        string?[] callers = ["aad:0a0a0a0a-0000-4000-8000-00000000000a", "aad:0b0b0b0b-0000-4000-8000-00000000000b", null, "aad:0a0a0a0a-0000-4000-8000-00000000000a", "key", "aad:0a0a0a0a-0000-4000-8000-00000000000a", "aad:0b0b0b0b-0000-4000-8000-00000000000b"];
        for (var i = 0; i < callers.Length; i++)
        {
            var created = Start.AddMinutes(i);
            Assert.True(await store.TryCreateAsync(new JobStatus { JobId = $"job-{i}", State = JobState.Running, CreatedAt = created, UpdatedAt = created, Caller = callers[i], ImagesTotal = 10 + i, ImagesDone = i }));
        }

        await host.Container(host.Storage.JobsContainer).UploadBlobAsync("jobs/job-0/shards/000000.json", BinaryData.FromString("{}"));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Each_caller_sees_only_its_own_jobs_newest_first()
    {
        var api = host.Get<JobApiService>();

        Assert.Equal(["job-5", "job-3", "job-0"], JobIds(await ListAsync(api, null, A)));
        Assert.Equal(["job-6", "job-1"], JobIds(await ListAsync(api, null, B)));
        Assert.Equal(["job-4", "job-2"], JobIds(await ListAsync(api, null, KeyOnly)));
    }

    [Fact]
    public async Task An_entry_has_the_summary_fields_and_the_status_link()
    {
        using var body = await ListAsync(host.Get<JobApiService>(), "1", B);

        Assert.True(body.RootElement.GetProperty("complete").GetBoolean());
        var job = Assert.Single(body.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Equal(
            """{"jobId":"job-6","state":"running","createdAt":"2026-12-07T12:06:00+00:00","imagesDone":6,"imagesTotal":16,"status":"jobs/job-6"}""",
            job.GetRawText());
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData("100", 3)]
    public async Task The_limit_is_honoured(string limit, int count)
    {
        using var body = await ListAsync(host.Get<JobApiService>(), limit, A);

        Assert.Equal(new[] { "job-5", "job-3", "job-0" }[..count], JobIds(body));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("")]
    [InlineData("1,2")]
    public async Task A_limit_outside_1_to_100_is_400(string limit)
    {
        var result = await host.Get<JobApiService>().ListHttpAsync(limit, A, "bad-limit");

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal(new ApiProblem("about:blank", "Bad Request", 400, "limit must be a whole number from 1 to 100.", "limit", "bad-limit"), result.Body);
    }

    private static async Task<JsonDocument> ListAsync(JobApiService api, string? limit, Dictionary<string, IEnumerable<string>> caller)
    {
        var result = await api.ListHttpAsync(limit, caller, "list");
        Assert.Equal(HttpStatusCode.OK, result.Status);
        using var stream = new MemoryStream();
        await result.WriteBodyAsync(stream);
        return JsonDocument.Parse(stream.ToArray());
    }

    private static string[] JobIds(JsonDocument body)
    {
        using (body)
        {
            return [.. body.RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()!)];
        }
    }

    private static Dictionary<string, IEnumerable<string>> Principal(string objectId) =>
        ApiCallerTests.Headers(("X-MS-CLIENT-PRINCIPAL-ID", objectId), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"), ("x-functions-key", "k"));
}

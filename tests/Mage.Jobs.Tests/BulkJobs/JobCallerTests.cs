using System.Net;
using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Mage.Jobs.Tests.Http;
using Mage.Jobs.Tests.Infrastructure;

namespace Mage.Jobs.Tests.BulkJobs;

/// <summary>
/// A job records who submitted it over HTTP, and only that caller reads it (docs/api.md, Callers):
/// through <see cref="JobApiService"/> and <see cref="SubmitJobService"/> against Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class JobCallerTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Guid A = Guid.Parse("0a0a0a0a-0000-4000-8000-00000000000a");
    private static readonly Guid B = Guid.Parse("0b0b0b0b-0000-4000-8000-00000000000b");
    private static readonly Dictionary<string, IEnumerable<string>> KeyOnly = ApiCallerTests.Headers(("x-functions-key", "k"));

    private MageTestHost trusting = null!;
    private MageTestHost plain = null!;

    public async Task InitializeAsync()
    {
        trusting = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Api:TrustAuthHeaders"] = "true" });
        plain = await MageTestHost.StartAsync(azurite);
        foreach (var host in new[] { trusting, plain })
        {
            await host.Container(host.Storage.UploadsContainer).GetBlobClient("set/a.png").UploadAsync(BinaryData.FromBytes(MageTestHost.RandomPng(1)));
        }
    }

    public async Task DisposeAsync()
    {
        await trusting.DisposeAsync();
        await plain.DisposeAsync();
    }

    [Fact]
    public async Task With_trusted_headers_only_the_submitting_principal_reads_its_job_and_others_get_the_unknown_job_answer()
    {
        var api = trusting.Get<JobApiService>();

        var submitted = await SubmitAsync(api, "mine-1", Principal(A));
        Assert.Equal(HttpStatusCode.Accepted, submitted.Status);
        var message = Assert.Single(await trusting.DrainAsync(trusting.Storage.JobsQueue));
        Assert.Equal($"aad:{A}", JsonDocument.Parse(message).RootElement.GetProperty("caller").GetString());
        var status = await trusting.Get<SubmitJobService>().SubmitAsync(message);
        Assert.Equal($"aad:{A}", status!.Caller);

        var own = await api.GetStatusHttpAsync("mine-1", Principal(A), "own");
        var other = await api.GetStatusHttpAsync("mine-1", Principal(B), "other");
        var key = await api.GetStatusHttpAsync("mine-1", KeyOnly, "key");
        var unknown = await api.GetStatusHttpAsync("never-was", Principal(B), "unknown");

        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal($"aad:{A}", Assert.IsType<JobStatus>(own.Body).Caller);
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound), (other.Status, key.Status, unknown.Status));
        Assert.Equal(Shape(unknown, "never-was"), Shape(other, "mine-1"));
        Assert.Equal(Shape(unknown, "never-was"), Shape(key, "mine-1"));
    }

    [Fact]
    public async Task With_trusted_headers_a_taken_id_is_409_for_everyone_but_only_its_owner_is_told_it_is_theirs()
    {
        var api = trusting.Get<JobApiService>();
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(api, "taken-1", Principal(A))).Status);
        await trusting.Get<SubmitJobService>().SubmitAsync(Assert.Single(await trusting.DrainAsync(trusting.Storage.JobsQueue)));

        var again = await SubmitAsync(api, "taken-1", Principal(A));
        var other = await SubmitAsync(api, "taken-1", Principal(B));

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (again.Status, other.Status));
        Assert.Equal("Job taken-1 already exists; its status is at jobs/taken-1.", Error(again));
        Assert.Equal("The job id taken-1 is taken; choose another.", Error(other));
        Assert.Empty(await trusting.DrainAsync(trusting.Storage.JobsQueue));
    }

    [Fact]
    public async Task With_trusted_headers_garbage_principal_headers_are_refused_with_401()
    {
        var api = trusting.Get<JobApiService>();
        var garbage = ApiCallerTests.Headers(("X-MS-CLIENT-PRINCIPAL-ID", "' or 1=1"), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"));

        var submitted = await SubmitAsync(api, "garbage-1", garbage);
        var read = await api.GetStatusHttpAsync("garbage-1", garbage, "read");

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (submitted.Status, read.Status));
        Assert.StartsWith("X-MS-CLIENT-PRINCIPAL-ID must be", Error(read), StringComparison.Ordinal);
        Assert.Equal("read", Assert.IsType<ApiProblem>(read.Body).CorrelationId);
        Assert.Empty(await trusting.DrainAsync(trusting.Storage.JobsQueue));
    }

    [Fact]
    public async Task A_key_holder_reads_jobs_sent_straight_to_the_queue()
    {
        var status = await trusting.Get<SubmitJobService>().SubmitAsync(Job("queued-1"));
        Assert.Null(status!.Caller);

        var read = await trusting.Get<JobApiService>().GetStatusHttpAsync("queued-1", KeyOnly, "queued");

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await trusting.Get<JobApiService>().GetStatusHttpAsync("queued-1", Principal(A), "principal")).Status);
    }

    [Fact]
    public async Task Without_trust_the_principal_headers_are_ignored_and_every_caller_is_a_key_holder()
    {
        var api = plain.Get<JobApiService>();

        Assert.Equal(HttpStatusCode.Accepted, (await SubmitAsync(api, "plain-1", Principal(A), plain)).Status);
        var message = Assert.Single(await plain.DrainAsync(plain.Storage.JobsQueue));
        Assert.Equal("key", JsonDocument.Parse(message).RootElement.GetProperty("caller").GetString());
        Assert.Equal("key", (await plain.Get<SubmitJobService>().SubmitAsync(message))!.Caller);

        var garbage = ApiCallerTests.Headers(("X-MS-CLIENT-PRINCIPAL-ID", "nonsense"), ("X-MS-CLIENT-PRINCIPAL-IDP", "nonsense"));
        foreach (var headers in new[] { Principal(B), KeyOnly, garbage })
        {
            Assert.Equal(HttpStatusCode.OK, (await api.GetStatusHttpAsync("plain-1", headers, "read")).Status);
        }
    }

    [Fact]
    public async Task A_body_that_names_a_list_range_is_refused_and_nothing_is_enqueued()
    {
        var body = $$"""{ "listRange": 0, "jobId": "ranged-1", "source": { "container": "{{trusting.Storage.UploadsContainer}}", "prefix": "set/" } }""";

        var result = await trusting.Get<JobApiService>().SubmitHttpAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)), Principal(A), "ranged");

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("listRange is set by the service on the messages of a job listed in ranges; leave it out.", Error(result));
        Assert.Empty(await trusting.DrainAsync(trusting.Storage.JobsQueue));
    }

    [Theory]
    [InlineData("\"caller\": \"aad:0b0b0b0b-0000-4000-8000-00000000000b\"")]
    [InlineData("\"caller\": \"key\"")]
    [InlineData("\"Caller\": null")]
    [InlineData("\"\\u0063aller\": \"key\"")]
    public async Task A_body_that_names_a_caller_is_refused_and_nothing_is_enqueued(string member)
    {
        var body = $$"""{ {{member}}, "jobId": "named-1", "source": { "container": "{{trusting.Storage.UploadsContainer}}", "prefix": "set/" } }""";

        var result = await trusting.Get<JobApiService>().SubmitHttpAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)), Principal(A), "named");

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.StartsWith("caller is set by the service", Error(result), StringComparison.Ordinal);
        Assert.Empty(await trusting.DrainAsync(trusting.Storage.JobsQueue));
    }

    [Fact]
    public async Task A_declared_length_over_the_cap_is_413_before_the_body_is_read()
    {
        var headers = ApiCallerTests.Headers(("Content-Length", (JobApiService.MaxBodyBytes + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var result = await trusting.Get<JobApiService>().SubmitHttpAsync(new UnreadableStream(), headers, "large");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, result.Status);
        Assert.Equal(ApiProblem.Of(HttpStatusCode.RequestEntityTooLarge, Error(result), "large"), result.Body);
    }

    private static Dictionary<string, IEnumerable<string>> Principal(Guid objectId) =>
        ApiCallerTests.Headers(("X-MS-CLIENT-PRINCIPAL-ID", objectId.ToString()), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"), ("x-functions-key", "k"));

    private string Job(string jobId, MageTestHost? host = null) =>
        JsonSerializer.Serialize(new { jobId, source = new { container = (host ?? trusting).Storage.UploadsContainer, prefix = "set/" } });

    private Task<ApiResult> SubmitAsync(JobApiService api, string jobId, Dictionary<string, IEnumerable<string>> headers, MageTestHost? host = null) =>
        api.SubmitHttpAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Job(jobId, host))), headers, "submit-" + jobId);

    /// <summary>The answer's status and body with its job id and correlation id taken out: what tells one 404 from another.</summary>
    private static string Shape(ApiResult result, string jobId) =>
        $"{result.Status} {JsonSerializer.Serialize(result.Body).Replace(jobId, "ID", StringComparison.Ordinal).Replace(result.CorrelationId, "CORR", StringComparison.Ordinal)}";

    private static string Error(ApiResult result) => Assert.IsType<ApiProblem>(result.Body).Detail;

    /// <summary>A body that fails the test if anything reads it.</summary>
    private sealed class UnreadableStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("the body was read");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new InvalidOperationException("the body was read");
    }
}

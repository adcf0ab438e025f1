using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Core.Serialization;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;

namespace Mage.Jobs.Tests.Http;

/// <summary>
/// How every host writes an answer (<see cref="ApiResult.Headers"/>, <see cref="ApiResult.WriteBodyAsync"/>):
/// the same bytes the Functions worker's default serializer wrote before the writing moved here
/// (WorkerOptions: a JsonObjectSerializer over options with PropertyNameCaseInsensitive only).
/// </summary>
public sealed class ApiResultTests
{
    private static readonly JsonObjectSerializer FunctionsWorkerDefault = new(new JsonSerializerOptions { PropertyNameCaseInsensitive = true });

    public static TheoryData<string> Bodies => ["error", "accepted", "status"];

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task The_body_is_what_the_functions_worker_wrote(string kind)
    {
        var result = kind switch
        {
            "error" => ApiResult.Error(HttpStatusCode.NotFound, "No job <a'b>+é.", "c-1"),
            "accepted" => new ApiResult(HttpStatusCode.Accepted, new { jobId = "j-1", status = "jobs/j-1" }, "c-1", "jobs/j-1"),
            _ => new ApiResult(HttpStatusCode.OK, new JobStatus { JobId = "j-1", State = JobState.Running, CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch, Caller = "key" }, "c-1"),
        };
        using var ours = new MemoryStream();
        using var theirs = new MemoryStream();

        await result.WriteBodyAsync(ours);
        await FunctionsWorkerDefault.SerializeAsync(theirs, result.Body, typeof(object), default);

        Assert.Equal(Encoding.UTF8.GetString(theirs.ToArray()), Encoding.UTF8.GetString(ours.ToArray()));
    }

    [Fact]
    public void Headers_name_the_content_type_the_correlation_id_and_the_location_on_the_request_host()
    {
        var result = new ApiResult(HttpStatusCode.Accepted, new { jobId = "j-1" }, "c-1", "jobs/j-1");

        var headers = result.Headers(new Uri("http://127.0.0.1:7071/api/jobs?x=1")).ToList();

        Assert.Equal(
            [new("Content-Type", "application/json; charset=utf-8"), new("x-correlation-id", "c-1"), new("Location", "http://127.0.0.1:7071/api/jobs/j-1")],
            headers);
        Assert.DoesNotContain(ApiResult.Error(HttpStatusCode.NotFound, "x", "c-2").Headers(new Uri("http://h/")), h => h.Key == "Location");
    }
}

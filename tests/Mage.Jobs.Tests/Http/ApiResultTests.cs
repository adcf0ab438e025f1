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

    [Fact]
    public void An_error_is_an_rfc_9457_problem_with_its_own_content_type()
    {
        var result = ApiResult.Error(HttpStatusCode.RequestEntityTooLarge, "The job is larger than 49152 bytes.", "c-3", "source.blobs");

        Assert.Equal(new ApiProblem("about:blank", "Content Too Large", 413, "The job is larger than 49152 bytes.", "source.blobs", "c-3"), result.Body);
        Assert.Contains(new KeyValuePair<string, string>("Content-Type", "application/problem+json; charset=utf-8"), result.Headers(new Uri("http://h/")));
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(ApiResult.Error(HttpStatusCode.NotFound, "No job j.", "c-4").Body));
        Assert.Equal(["type", "title", "status", "detail", "correlationId"], document.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("source.container 'Uploads' is not a valid container name.", "source.container")]
    [InlineData("boxes[1] must have four integers.", "boxes[1]")]
    [InlineData("steps: must be 1..64.", "steps")]
    [InlineData("requestId must be 1-64 characters.", "requestId")]
    [InlineData("The body is not valid: seed: expected a whole number, not the string \"7\".", "seed")]
    [InlineData("The body is not valid: source.name is not a known field; the fields here are container, name.", "source.name")]
    [InlineData("exactly one of mask and boxes is required.", null)]
    [InlineData("The body is not JSON.", null)]
    [InlineData("sourceless is not a member.", null)]
    public void The_leading_field_is_a_member_of_the_message(string detail, string? field) =>
        Assert.Equal(field, ApiProblem.LeadingField<Mage.Jobs.Requests.EditMessage>(detail));
}

using System.Net;
using System.Text.Json;
using Azure.Storage.Queues;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// The HTTP side of jobs: validate and enqueue a job, read a job's status, each for one
/// <see cref="ApiCaller"/>. Answers name only the request's own fields; what went wrong with
/// storage is logged under the answer's correlation id (docs/api.md, Errors).
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class JobApiService(
    QueueServiceClient queues,
    JobStatusStore statuses,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    IOptions<ApiSettings> api,
    ILogger<JobApiService> logger)
{
    /// <summary>Largest accepted body: a storage queue message holds 64 KiB, and base64 takes a quarter of it.</summary>
    public const int MaxBodyBytes = 48 * 1024;

    /// <summary>
    /// An HTTP request to submit a job: the caller from <paramref name="headers"/>
    /// (<see cref="ApiCaller.FromHeaders"/> with <see cref="ApiSettings.TrustAuthHeaders"/>), then
    /// <paramref name="body"/>, read only when its Content-Length is within <see cref="MaxBodyBytes"/>
    /// and never more than that, then as <see cref="SubmitAsync(string, ApiCaller, string, CancellationToken)"/>.
    /// </summary>
    public async Task<ApiResult> SubmitHttpAsync(Stream body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Identify(headers, correlationId, out var refused) is not { } caller)
        {
            return refused!;
        }

        var text = await ApiBody.ReadAsync(body, headers, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        return text is null ? TooLarge(correlationId) : await SubmitAsync(text, caller, correlationId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Validates a job body and enqueues it for <see cref="SubmitJobService"/>, recording
    /// <paramref name="caller"/> in it (<c>caller</c>; a body that names one itself is refused).
    /// </summary>
    public async Task<ApiResult> SubmitAsync(string body, ApiCaller caller, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        if (System.Text.Encoding.UTF8.GetByteCount(body) > MaxBodyBytes)
        {
            return TooLarge(correlationId);
        }

        var parsed = JobMessageParser.Parse(body, limits.Value, storage.Value);
        if (!parsed.IsValid)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, parsed.Error!, correlationId, ApiProblem.LeadingField<JobMessage>(parsed.Error!));
        }

        if (Vocabulary.MessageJson.HasMember(body, "caller"))
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, "caller is set by the service from the request's credentials; leave it out.", correlationId, "caller");
        }

        if (Vocabulary.MessageJson.HasMember(body, "listRange"))
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, "listRange is set by the service on the messages of a job listed in ranges; leave it out.", correlationId, "listRange");
        }

        var message = WithCaller(body, caller);
        if (System.Text.Encoding.UTF8.GetByteCount(message) > MaxBodyBytes)
        {
            return TooLarge(correlationId);
        }

        var jobId = parsed.Spec!.JobId;
        var queue = queues.GetQueueClient(storage.Value.JobsQueue);
        var resource = StorageResource.Of(statuses.Container);
        using var deadline = Deadline(cancellationToken);
        try
        {
            if (await statuses.GetDocumentAsync(jobId, deadline.Token).ConfigureAwait(false) is { } existing)
            {
                // 409 either way: the id is taken, and a 202 would queue a job that never runs. Only
                // the job's own caller is told it is theirs.
                return caller.MaySee(existing.Status.Caller)
                    ? ApiResult.Error(HttpStatusCode.Conflict, $"Job {jobId} already exists; its status is at jobs/{jobId}.", correlationId, "jobId")
                    : ApiResult.Error(HttpStatusCode.Conflict, $"The job id {jobId} is taken; choose another.", correlationId, "jobId");
            }

            resource = StorageResource.Of(queue);
            await queue.SendMessageAsync(message, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The message may have gone out with its answer lost; a job submitted twice runs once (see SubmitJobService).
            LogStorageTrouble(logger, "submit", jobId, correlationId, StorageErrors.TimedOut(resource, ApiTimeout));
            return ApiResult.Error(HttpStatusCode.ServiceUnavailable, $"Job {jobId} may not have been accepted: the service's storage did not answer in time. Submitting it again is safe. Correlation id {correlationId}.", correlationId);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // A missing queue or unreachable storage is the service's trouble, not the caller's: 503, not a bare 500.
            LogStorageTrouble(logger, "submit", jobId, correlationId, StorageErrors.Explain(resource, e, creating: false));
            return ApiResult.Error(HttpStatusCode.ServiceUnavailable, $"Job {jobId} was not accepted: the service cannot reach its storage now; try again later. Correlation id {correlationId}.", correlationId);
        }

        return new ApiResult(HttpStatusCode.Accepted, new { jobId, status = $"jobs/{jobId}" }, correlationId, $"jobs/{jobId}");
    }

    /// <summary>An HTTP request for a job's status: the caller from <paramref name="headers"/>, then as <see cref="GetStatusAsync(string, ApiCaller, string, CancellationToken)"/>.</summary>
    public async Task<ApiResult> GetStatusHttpAsync(string jobId, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default) =>
        Identify(headers, correlationId, out var refused) is { } caller
            ? await GetStatusAsync(jobId, caller, correlationId, cancellationToken).ConfigureAwait(false)
            : refused!;

    /// <summary>
    /// The status of a job: its status document with the counts of its stripes added
    /// (<see cref="JobStatusStore.GetAsync"/>). A job <paramref name="caller"/> may not see
    /// (<see cref="ApiCaller.MaySee"/>) is answered exactly as a job that does not exist.
    /// </summary>
    public async Task<ApiResult> GetStatusAsync(string jobId, ApiCaller caller, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        if (!BlobNames.IsId(jobId))
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"jobId must be {BlobNames.IdRule}.", correlationId, "jobId");
        }

        var unavailable = ApiResult.Error(HttpStatusCode.ServiceUnavailable, $"The status of job {jobId} cannot be read now: the service cannot reach its storage; try again later. Correlation id {correlationId}.", correlationId);
        using var deadline = Deadline(cancellationToken);
        (JobStatus Status, Azure.ETag ETag)? status;
        try
        {
            status = await statuses.GetAsync(jobId, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogStorageTrouble(logger, "status", jobId, correlationId, StorageErrors.TimedOut(StorageResource.Of(statuses.Container), ApiTimeout));
            return unavailable;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            LogStorageTrouble(logger, "status", jobId, correlationId, StorageErrors.Explain(StorageResource.Of(statuses.Container), e, creating: false));
            return unavailable;
        }

        if (status is { } found && !caller.MaySee(found.Status.Caller))
        {
            LogHidden(logger, correlationId, jobId, caller.ToString());
            status = null;
        }

        return status is null
            ? ApiResult.Error(HttpStatusCode.NotFound, $"No job {jobId}.", correlationId)
            : new ApiResult(HttpStatusCode.OK, status.Value.Status, correlationId);
    }

    /// <summary>
    /// An HTTP request for the caller's recent jobs: the caller from <paramref name="headers"/>, then
    /// as <see cref="ListAsync(string, ApiCaller, string, CancellationToken)"/>.
    /// </summary>
    public async Task<ApiResult> ListHttpAsync(string? limit, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, CancellationToken cancellationToken = default) =>
        Identify(headers, correlationId, out var refused) is { } caller
            ? await ListAsync(limit, caller, correlationId, cancellationToken).ConfigureAwait(false)
            : refused!;

    /// <summary>
    /// The newest jobs <paramref name="caller"/> may see (<see cref="ApiCaller.MaySee"/>), at most
    /// <paramref name="limit"/> (the query's text; default <see cref="JobList.DefaultLimit"/>), found
    /// as <see cref="JobList"/> describes: a bounded listing of the status documents, then reads newest first.
    /// </summary>
    public async Task<ApiResult> ListAsync(string? limit, ApiCaller caller, string correlationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentException.ThrowIfNullOrEmpty(correlationId);
        if (JobList.ParseLimit(limit) is not { } count)
        {
            return ApiResult.Error(HttpStatusCode.BadRequest, $"limit must be a whole number from 1 to {JobList.MaxLimit}.", correlationId, "limit");
        }

        using var deadline = Deadline(cancellationToken);
        try
        {
            return new ApiResult(HttpStatusCode.OK, await JobList.FindAsync(statuses, caller, count, deadline.Token).ConfigureAwait(false), correlationId);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogListTrouble(logger, correlationId, StorageErrors.TimedOut(StorageResource.Of(statuses.Container), ApiTimeout));
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            LogListTrouble(logger, correlationId, StorageErrors.Explain(StorageResource.Of(statuses.Container), e, creating: false));
        }

        return ApiResult.Error(HttpStatusCode.ServiceUnavailable, $"The job list cannot be read now: the service cannot reach its storage; try again later. Correlation id {correlationId}.", correlationId);
    }

    private TimeSpan ApiTimeout => TimeSpan.FromSeconds(limits.Value.ApiTimeoutSeconds);

    /// <summary>The caller <paramref name="headers"/> name, or null and the 401 in <paramref name="refused"/>.</summary>
    private ApiCaller? Identify(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string correlationId, out ApiResult? refused) =>
        ApiGate.Identify(headers, api.Value.TrustAuthHeaders, correlationId, logger, out refused);

    private static ApiResult TooLarge(string correlationId) =>
        ApiResult.Error(HttpStatusCode.RequestEntityTooLarge, $"The job is larger than {MaxBodyBytes} bytes; list many images with source.prefix instead of source.blobs.", correlationId);

    /// <summary>
    /// The body with <c>caller</c> as its first member. Inserted rather than serialized again, so the
    /// queue gets the job as it was sent (same escaping, same size plus the member); the body is a
    /// valid job (an object with a jobId) with no caller member, checked before.
    /// </summary>
    private static string WithCaller(string body, ApiCaller caller)
    {
        if (caller.Name is null)
        {
            return body;
        }

        var open = body.IndexOf('{', StringComparison.Ordinal);
        return string.Concat(body.AsSpan(0, open + 1), $"\"caller\":{JsonSerializer.Serialize(caller.Name)},", body.AsSpan(open + 1));
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken) => ApiGate.Deadline(cancellationToken, ApiTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the {Request} request answered 503 (correlation id {CorrelationId}): {Problem}")]
    private static partial void LogStorageTrouble(ILogger logger, string request, string jobId, string correlationId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The job list request answered 503 (correlation id {CorrelationId}): {Problem}")]
    private static partial void LogListTrouble(ILogger logger, string correlationId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} answered as not found to caller {Caller}, who did not submit it (correlation id {CorrelationId})")]
    private static partial void LogHidden(ILogger logger, string correlationId, string jobId, string caller);
}

using System.Net;
using Azure.Storage.Queues;
using Mage.Jobs.Coordination;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>The HTTP side of jobs: validate and enqueue a job, read a job's status.</summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class JobApiService(QueueServiceClient queues, JobStatusStore statuses, IOptions<StorageSettings> storage, IOptions<LimitSettings> limits)
{
    /// <summary>Largest accepted body: a storage queue message holds 64 KiB, and base64 takes a quarter of it.</summary>
    public const int MaxBodyBytes = 48 * 1024;

    /// <summary>Validates a job body and enqueues it for <see cref="SubmitJobService"/>.</summary>
    public async Task<ApiResult> SubmitAsync(string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (System.Text.Encoding.UTF8.GetByteCount(body) > MaxBodyBytes)
        {
            return new ApiResult(HttpStatusCode.RequestEntityTooLarge, new { error = $"The job is larger than {MaxBodyBytes} bytes; list many images with source.prefix instead of source.blobs." });
        }

        var parsed = JobMessageParser.Parse(body, limits.Value, storage.Value);
        if (!parsed.IsValid)
        {
            return new ApiResult(HttpStatusCode.BadRequest, new { error = parsed.Error });
        }

        var jobId = parsed.Spec!.JobId;
        var queue = queues.GetQueueClient(storage.Value.JobsQueue);
        var resource = StorageResource.Of(statuses.Container);
        using var deadline = Deadline(cancellationToken);
        try
        {
            if (await statuses.GetDocumentAsync(jobId, deadline.Token).ConfigureAwait(false) is not null)
            {
                return new ApiResult(HttpStatusCode.Conflict, new { error = $"Job {jobId} already exists.", status = $"jobs/{jobId}" });
            }

            resource = StorageResource.Of(queue);
            await queue.SendMessageAsync(body, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The message may have gone out with its answer lost; a job submitted twice runs once (see SubmitJobService).
            return new ApiResult(HttpStatusCode.ServiceUnavailable, new { error = $"Job {jobId} may not have been accepted: {resource.Description} did not answer within {limits.Value.ApiTimeoutSeconds} s. Submitting it again is safe." });
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // A missing queue or unreachable storage is the service's trouble, not the caller's: 503 naming it, not a bare 500.
            return new ApiResult(HttpStatusCode.ServiceUnavailable, new { error = $"Job {jobId} was not accepted: {StorageErrors.Explain(resource, e, creating: false)}" });
        }

        return new ApiResult(HttpStatusCode.Accepted, new { jobId, status = $"jobs/{jobId}" }, $"jobs/{jobId}");
    }

    /// <summary>A token that fires when the caller gives up or after <see cref="LimitSettings.ApiTimeoutSeconds"/>, whichever comes first.</summary>
    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(limits.Value.ApiTimeoutSeconds));
        return deadline;
    }

    /// <summary>The status of a job: its status document with the counts of its stripes added (<see cref="JobStatusStore.GetAsync"/>).</summary>
    public async Task<ApiResult> GetStatusAsync(string jobId, CancellationToken cancellationToken = default)
    {
        if (!BlobNames.IsId(jobId))
        {
            return new ApiResult(HttpStatusCode.BadRequest, new { error = $"jobId must be {BlobNames.IdRule}." });
        }

        using var deadline = Deadline(cancellationToken);
        (JobStatus Status, Azure.ETag ETag)? status;
        try
        {
            status = await statuses.GetAsync(jobId, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ApiResult(HttpStatusCode.ServiceUnavailable, new { error = $"The status of job {jobId} cannot be read now: {StorageResource.Of(statuses.Container).Description} did not answer within {limits.Value.ApiTimeoutSeconds} s." });
        }

        return status is null
            ? new ApiResult(HttpStatusCode.NotFound, new { error = $"No job {jobId}." })
            : new ApiResult(HttpStatusCode.OK, status.Value.Status);
    }
}

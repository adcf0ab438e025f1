using System.Globalization;
using System.Text.Json;
using Mage.Jobs.Coordination;
using Mage.Jobs.Http;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// <c>GET /api/jobs</c>'s mechanics: a caller's newest jobs without an index. One flat listing of the
/// jobs container (at most <see cref="MaxListedBlobs"/> blobs, one List call), the status documents
/// in it newest first by creation time, then one read per document until <c>limit</c> of them are
/// the caller's (at most <see cref="MaxReads"/> reads). A deployment with more jobs than that needs
/// an index (docs/api.md, <c>GET /api/jobs</c>); the answer says when a bound cut the search short.
/// </summary>
internal static class JobList
{
    /// <summary>Jobs answered when the query gives no <c>limit</c>.</summary>
    public const int DefaultLimit = 20;

    /// <summary>The largest <c>limit</c>.</summary>
    public const int MaxLimit = 100;

    /// <summary>Blobs listed at most: one List call's page. Every blob under <c>jobs/</c> counts, not only status documents.</summary>
    public const int MaxListedBlobs = 5000;

    /// <summary>Status documents read at most, for a caller whose jobs are few among many.</summary>
    public const int MaxReads = 500;

    /// <summary>The <c>limit</c> query value as a count, <see cref="DefaultLimit"/> when absent, or null when it is not 1..<see cref="MaxLimit"/>.</summary>
    public static int? ParseLimit(string? limit) =>
        limit is null ? DefaultLimit
        : int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= MaxLimit ? count
        : null;

    /// <summary>
    /// The answer's body: <c>jobs</c> (newest first: <c>jobId</c>, <c>state</c>, <c>createdAt</c>,
    /// <c>imagesDone</c>, <c>imagesTotal</c>, <c>status</c>, the link <c>POST /api/jobs</c> answers)
    /// and <c>complete</c>, false when a bound stopped the search before every job was looked at.
    /// </summary>
    public static async Task<object> FindAsync(JobStatusStore statuses, ApiCaller caller, int limit, CancellationToken cancellationToken)
    {
        var (listed, complete) = await statuses.ListStatusesAsync(MaxListedBlobs, cancellationToken).ConfigureAwait(false);
        var found = new List<JobStatus>();
        var reads = 0;
        DateTimeOffset? last = null;
        foreach (var (jobId, createdOn) in listed.OrderByDescending(s => s.CreatedOn).ThenBy(s => s.JobId, StringComparer.Ordinal))
        {
            // Creation times are to the second: the documents created in the same second as the
            // limit-th are read too, and the answer ordered by the documents' own createdAt.
            if (last is { } cut && createdOn < cut)
            {
                break;
            }

            if (++reads > MaxReads)
            {
                complete = false;
                break;
            }

            if (await ReadAsync(statuses, jobId, cancellationToken).ConfigureAwait(false) is { } document && caller.MaySee(document.Status.Caller))
            {
                found.Add(document.Status);
                last ??= found.Count == limit ? createdOn : null;
            }
        }

        var jobs = found
            .OrderByDescending(s => s.CreatedAt).ThenBy(s => s.JobId, StringComparer.Ordinal).Take(limit)
            .Select(s => new { jobId = s.JobId, state = s.State, createdAt = s.CreatedAt, imagesDone = s.ImagesDone, imagesTotal = s.ImagesTotal, status = $"jobs/{s.JobId}" })
            .ToList();
        return new { jobs, complete };
    }

    /// <summary>
    /// The status document of <paramref name="jobId"/>, or null when it is gone or is not a status
    /// document (not JSON, or JSON null): whose job that is cannot be told, so it is shown to nobody,
    /// and one damaged document does not take the list down for every caller.
    /// </summary>
    private static async Task<(JobStatus Status, Azure.ETag ETag)?> ReadAsync(JobStatusStore statuses, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            return await statuses.GetDocumentAsync(jobId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return null;
        }
    }
}

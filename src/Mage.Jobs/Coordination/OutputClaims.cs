using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Coordination;

/// <summary>
/// A bulk job's claim on its output prefix: a create-only marker (<see cref="ResultsLayout.JobOutputClaim"/>)
/// that carries the job's id, taken before the job writes anything. A job is refused when its prefix
/// holds anything else, when the marker belongs to another job, or when another job's marker sits
/// on an overlapping prefix (one a prefix of the other). Each job creates its marker first and
/// looks for the others after, so of two overlapping jobs at least one sees the other; the older
/// marker (by creation time, then job id) wins and the other job is refused and removes its marker.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal static class OutputClaims
{
    /// <summary>The metadata key of the job id on markers and parts.</summary>
    public const string JobIdKey = "jobid";

    /// <summary>Whether blob metadata names <paramref name="jobId"/> as its job.</summary>
    public static bool IsOf(IDictionary<string, string>? metadata, string jobId) =>
        metadata is not null && metadata.TryGetValue(JobIdKey, out var id) && id == jobId;

    /// <summary>
    /// Claims <paramref name="prefix"/> of <paramref name="output"/> for <paramref name="jobId"/>;
    /// null when the job holds it (now or from an earlier delivery), else why it may not have it.
    /// </summary>
    public static async Task<string?> ClaimAsync(BlobContainerClient output, string prefix, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var marker = output.GetBlobClient(ResultsLayout.JobOutputClaim(prefix));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [JobIdKey] = jobId };
        await BlobWrites.TryCreateAsync(marker, BinaryData.FromString($"{{\"jobId\":\"{jobId}\"}}"), "application/json", metadata, cancellationToken).ConfigureAwait(false);
        var mine = await BlobWrites.TryGetPropertiesAsync(marker, cancellationToken).ConfigureAwait(false);
        if (mine is null || !IsOf(mine.Metadata, jobId))
        {
            return $"output prefix '{prefix}' in '{output.Name}' belongs to {OtherJob(mine?.Metadata)}; give each job its own prefix.";
        }

        var problem = await FindInsideAsync(output, prefix, marker.Name, mine, jobId, cancellationToken).ConfigureAwait(false)
            ?? await FindAboveAsync(output, prefix, mine, jobId, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            await ReleaseAsync(output, prefix, jobId, cancellationToken).ConfigureAwait(false);
        }

        return problem;
    }

    /// <summary>Removes this job's claim on <paramref name="prefix"/> (a job that fails before it writes anything leaves the prefix free); another job's claim stays.</summary>
    public static async Task ReleaseAsync(BlobContainerClient output, string prefix, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var marker = output.GetBlobClient(ResultsLayout.JobOutputClaim(prefix));
        if (await BlobWrites.TryGetPropertiesAsync(marker, cancellationToken).ConfigureAwait(false) is { } properties && IsOf(properties.Metadata, jobId))
        {
            await marker.DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = properties.ETag }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Anything in the prefix but this job's marker and parts: someone's blobs, or a claim of a job that got there first.</summary>
    private static async Task<string?> FindInsideAsync(BlobContainerClient output, string prefix, string markerName, BlobProperties mine, string jobId, CancellationToken cancellationToken)
    {
        await foreach (var item in output.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (item.Name == markerName || IsOf(item.Metadata, jobId))
            {
                continue;
            }

            var isMarker = item.Name.EndsWith("/" + ResultsLayout.JobOutputClaimName, StringComparison.Ordinal) && item.Metadata.ContainsKey(JobIdKey);
            if (!isMarker || Wins(item.Properties.CreatedOn, item.Metadata[JobIdKey], mine.CreatedOn, jobId))
            {
                return $"output prefix '{prefix}' in '{output.Name}' is not empty (it holds {item.Name}); give each job its own prefix.";
            }
        }

        return null;
    }

    /// <summary>A claim of another job on a folder that holds this prefix, older than this job's.</summary>
    private static async Task<string?> FindAboveAsync(BlobContainerClient output, string prefix, BlobProperties mine, string jobId, CancellationToken cancellationToken)
    {
        var segments = prefix.TrimEnd('/').Split('/');
        for (var n = 1; n < segments.Length; n++)
        {
            var folder = string.Join('/', segments[..n]) + "/";
            var other = await BlobWrites.TryGetPropertiesAsync(output.GetBlobClient(ResultsLayout.JobOutputClaim(folder)), cancellationToken).ConfigureAwait(false);
            if (other is not null && other.Metadata.TryGetValue(JobIdKey, out var otherId) && otherId != jobId && Wins(other.CreatedOn, otherId, mine.CreatedOn, jobId))
            {
                return $"output prefix '{prefix}' in '{output.Name}' lies inside '{folder}', the output of job {otherId}; give each job its own prefix.";
            }
        }

        return null;
    }

    /// <summary>Whether the other claim is older than this one (creation time, then job id): the older claim keeps the prefix.</summary>
    private static bool Wins(DateTimeOffset? otherCreated, string otherId, DateTimeOffset mineCreated, string jobId) =>
        otherCreated is not { } created || created < mineCreated || (created == mineCreated && string.CompareOrdinal(otherId, jobId) < 0);

    private static string OtherJob(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(JobIdKey, out var id) ? $"job {id}" : "a blob this service did not write";
}

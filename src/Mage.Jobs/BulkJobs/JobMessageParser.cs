using Mage.Inference;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.BulkJobs;

/// <summary>Parses and validates job requests. Stateless and thread-safe.</summary>
internal static class JobMessageParser
{
    /// <summary>Parses <paramref name="json"/>; never throws for bad input.</summary>
    public static JobParseResult Parse(string json, LimitSettings limits, StorageSettings storage)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(storage);
        var salvagedId = MessageJson.SalvageId(json, "jobId");
        var request = MessageJson.Deserialize<JobMessage>(json, "job message", out var invalid);
        if (request is null)
        {
            return new(null, invalid, salvagedId);
        }

        var error = Validate(request, limits, storage, out var spec);
        return new(spec, error, BlobNames.IsId(request.JobId) ? request.JobId : null);
    }

    private static string? Validate(JobMessage r, LimitSettings limits, StorageSettings storage, out JobSpec? spec)
    {
        spec = null;
        if (!BlobNames.IsId(r.JobId))
        {
            return $"jobId '{r.JobId}' must be {BlobNames.IdRule}.";
        }

        var jobId = r.JobId!;
        if (r.Source is null)
        {
            return "source is required: { \"container\": ..., \"prefix\": ... }, { \"container\": ..., \"blobs\": [...] } or { \"container\": ..., \"list\": \"names.txt\" }.";
        }

        if (!BlobNames.IsContainerName(r.Source.Container))
        {
            return $"source.container '{r.Source.Container}' is not a valid container name (3-63 lower-case letters, digits and single hyphens).";
        }

        if (storage.CheckSource(r.Source.Container!, "source.container") is { } sourceNotAllowed)
        {
            return ErrorReasons.Format(ErrorReason.NotAllowed, sourceNotAllowed);
        }

        var given = new[] { ("prefix", r.Source.Prefix is not null), ("blobs", r.Source.Blobs is not null), ("list", r.Source.List is not null) }
            .Where(g => g.Item2).Select(g => g.Item1).ToList();
        if (given.Count > 1)
        {
            return $"source has {string.Join(" and ", given)}; give one of prefix, blobs and list.";
        }

        // The list blob is read by the service, so its name must be one Azure can hold.
        if (r.Source.List is { } list && BlobNames.CheckBlobName(list, limits.MaxBlobNameLength) is { } listProblem)
        {
            return $"source.list: {listProblem.Message}";
        }

        if (BlobNames.CheckPrefix(r.Source.Prefix, limits.MaxBlobNameLength) is { } prefixProblem)
        {
            return $"source.prefix: {prefixProblem.Message}";
        }

        if (r.Source.Blobs is { } blobs)
        {
            if (blobs.Count == 0)
            {
                return "The job has no images: source.blobs is empty.";
            }

            if (blobs.Count > limits.MaxImagesPerJob)
            {
                return $"The job lists {blobs.Count} images; at most {limits.MaxImagesPerJob} are allowed per job.";
            }

            for (var i = 0; i < blobs.Count; i++)
            {
                // A name too long for Azure is only read, so it fails its own row (ProcessShardService), not the job.
                if (BlobNames.CheckBlobName(blobs[i], limits.MaxBlobNameLength) is { Reason: not ErrorReason.NameTooLong } problem)
                {
                    return $"source.blobs[{i}]: {problem.Message}";
                }

                if (storage.CheckSourceBlob(r.Source.Container!, blobs[i], $"source.blobs[{i}]") is { } privateUpload)
                {
                    return ErrorReasons.Format(ErrorReason.NotAllowed, privateUpload);
                }
            }

            if (blobs.Distinct(StringComparer.Ordinal).Count() != blobs.Count)
            {
                return "source.blobs lists a blob more than once.";
            }
        }

        var outputContainer = r.Output?.Container ?? storage.ResultsContainer;
        if (!BlobNames.IsContainerName(outputContainer))
        {
            return $"output.container '{outputContainer}' is not a valid container name.";
        }

        var outputPrefix = r.Output?.Prefix ?? $"jobs/{jobId}/";
        var outputProblem = BlobNames.CheckPrefix(outputPrefix, limits.MaxBlobNameLength, ResultsLayout.JobPrefixSuffix);
        if (outputProblem?.Reason == ErrorReason.NameTooLong)
        {
            return ErrorReasons.Format(ErrorReason.NameTooLong, $"output.prefix: {outputProblem.Message}");
        }

        if (outputPrefix.Length == 0 || outputProblem is not null)
        {
            return $"output.prefix '{outputPrefix}' must be a non-empty folder without '..', empty segments or control characters.";
        }

        if (ResultsLayout.CheckOutput(storage, outputContainer, BlobNames.AsFolder(outputPrefix), "output") is { } outputNotAllowed)
        {
            return ErrorReasons.Format(ErrorReason.NotAllowed, outputNotAllowed);
        }

        var shardSize = r.ShardSize ?? Math.Min(LimitSettings.DefaultShardSize, limits.MaxShardSize);
        if (shardSize < 1 || shardSize > limits.MaxShardSize)
        {
            return $"shardSize {shardSize} must be between 1 and {limits.MaxShardSize}.";
        }

        if (ApiCaller.CheckRecorded(r.Caller) is { } callerProblem)
        {
            return callerProblem;
        }

        if (r.ListRange is < 0 or >= LimitSettings.MaxListRanges)
        {
            return $"listRange {r.ListRange} must be between 0 and {LimitSettings.MaxListRanges - 1}; the service sets it on the messages of a job listed in ranges.";
        }

        var sourcePrefix = r.Source.Blobs is null && r.Source.List is null ? r.Source.Prefix ?? "" : null;
        spec = new JobSpec(jobId, r.Source.Container!, sourcePrefix, r.Source.Blobs, r.Source.List, outputContainer, BlobNames.AsFolder(outputPrefix),
            new JobRecipe(r.Kind ?? JobKind.Embeddings, r.Pooling ?? MageDefaults.Pooling, r.Normalize ?? false, r.Preprocess ?? MageDefaults.EmbedPreprocess), shardSize);
        spec = spec with { Caller = r.Caller, ListRange = r.ListRange };
        return null;
    }
}

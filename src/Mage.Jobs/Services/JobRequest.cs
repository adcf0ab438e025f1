using System.Text.Json;
using System.Text.Json.Serialization;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Jobs.Services;

/// <summary>A bulk embedding job as it arrives (queue message or HTTP body). Unknown members are rejected.</summary>
public sealed record JobRequest(
    string? JobId,
    JobSourceRequest? Source,
    OutputRequest? Output,
    string? Pooling,
    bool? Normalize,
    string? Preprocess,
    int? ShardSize);

/// <summary>Either a prefix or an explicit list of blobs in one container.</summary>
public sealed record JobSourceRequest(string? Container, string? Prefix, IReadOnlyList<string>? Blobs);

/// <summary>Where results go.</summary>
public sealed record OutputRequest(string? Container, string? Prefix);

/// <summary>A validated job.</summary>
public sealed record JobSpec(
    string JobId,
    string SourceContainer,
    string? SourcePrefix,
    IReadOnlyList<string>? Blobs,
    string OutputContainer,
    string OutputPrefix,
    FeaturePooling Pooling,
    bool Normalize,
    PreprocessMode Preprocess,
    int ShardSize);

/// <summary>The result of parsing a job: a spec, or the reason it was refused and whatever job id could be salvaged.</summary>
public sealed record JobParseResult(JobSpec? Spec, string? Error, string? JobId)
{
    public bool IsValid => Spec is not null;
}

/// <summary>Parses and validates job requests. Stateless and thread-safe.</summary>
public static class JobRequestParser
{
    /// <summary>Parses <paramref name="json"/>; never throws for bad input.</summary>
    public static JobParseResult Parse(string json, LimitSettings limits, string defaultOutputContainer)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var salvagedId = SalvageJobId(json);
        JobRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<JobRequest>(json, JsonDefaults.Strict);
        }
        catch (JsonException e)
        {
            return new(null, $"The job message is not valid: {e.Message}", salvagedId);
        }

        if (request is null)
        {
            return new(null, "The job message is empty (null).", salvagedId);
        }

        var error = Validate(request, limits, defaultOutputContainer, out var spec);
        return new(spec, error, BlobNames.IsId(request.JobId) ? request.JobId : null);
    }

    private static string? Validate(JobRequest r, LimitSettings limits, string defaultOutputContainer, out JobSpec? spec)
    {
        spec = null;
        if (!BlobNames.IsId(r.JobId))
        {
            return $"jobId '{r.JobId}' must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.";
        }

        var jobId = r.JobId!;
        if (r.Source is null)
        {
            return "source is required: { \"container\": ..., \"prefix\": ... } or { \"container\": ..., \"blobs\": [...] }.";
        }

        if (!BlobNames.IsContainerName(r.Source.Container))
        {
            return $"source.container '{r.Source.Container}' is not a valid container name (3-63 lower-case letters, digits and single hyphens).";
        }

        if (r.Source.Prefix is not null && r.Source.Blobs is not null)
        {
            return "source has both prefix and blobs; give one.";
        }

        if (BlobNames.CheckPrefix(r.Source.Prefix, limits.MaxBlobNameLength) is { } prefixProblem)
        {
            return $"source.prefix: {prefixProblem}";
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
                if (BlobNames.CheckBlobName(blobs[i], limits.MaxBlobNameLength) is { } problem)
                {
                    return $"source.blobs[{i}]: {problem}";
                }
            }

            if (blobs.Distinct(StringComparer.Ordinal).Count() != blobs.Count)
            {
                return "source.blobs lists a blob more than once.";
            }
        }

        var outputContainer = r.Output?.Container ?? defaultOutputContainer;
        if (!BlobNames.IsContainerName(outputContainer))
        {
            return $"output.container '{outputContainer}' is not a valid container name.";
        }

        var outputPrefix = r.Output?.Prefix ?? $"jobs/{jobId}/";
        if (outputPrefix.Length == 0 || BlobNames.CheckPrefix(outputPrefix, limits.MaxBlobNameLength) is not null)
        {
            return $"output.prefix '{outputPrefix}' must be a non-empty folder without '..', empty segments or control characters.";
        }

        if (!TryParsePooling(r.Pooling ?? "linprobe", out var pooling))
        {
            return $"pooling '{r.Pooling}' is not one of linprobe, cls, mean.";
        }

        if (!ImagePreprocessor.TryParseMode(r.Preprocess ?? "linprobe", out var preprocess))
        {
            return $"preprocess '{r.Preprocess}' is not one of linprobe, square, none.";
        }

        var shardSize = r.ShardSize ?? Math.Min(256, limits.MaxShardSize);
        if (shardSize < 1 || shardSize > limits.MaxShardSize)
        {
            return $"shardSize {shardSize} must be between 1 and {limits.MaxShardSize}.";
        }

        var sourcePrefix = r.Source.Blobs is null ? r.Source.Prefix ?? "" : null;
        spec = new JobSpec(jobId, r.Source.Container!, sourcePrefix, r.Source.Blobs, outputContainer, BlobNames.AsFolder(outputPrefix), pooling, r.Normalize ?? false, preprocess, shardSize);
        return null;
    }

    /// <summary>Pooling names as jobs spell them.</summary>
    public static bool TryParsePooling(string? name, out FeaturePooling pooling)
    {
        switch (name)
        {
            case "linprobe": pooling = FeaturePooling.Linprobe; return true;
            case "cls": pooling = FeaturePooling.Cls; return true;
            case "mean": pooling = FeaturePooling.Mean; return true;
            default: pooling = default; return false;
        }
    }

    public static string PoolingName(FeaturePooling pooling) => pooling switch
    {
        FeaturePooling.Linprobe => "linprobe",
        FeaturePooling.Cls => "cls",
        FeaturePooling.Mean => "mean",
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling."),
    };

    private static string? SalvageJobId(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("jobId", out var id)
                   && id.ValueKind == JsonValueKind.String
                   && BlobNames.IsId(id.GetString())
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A shard of a job: the blobs it covers and how to embed them. Stored as <c>jobs/{jobId}/shards/{n}.json</c>.</summary>
public sealed record ShardDocument(
    string JobId,
    int Shard,
    string SourceContainer,
    string OutputContainer,
    string OutputPrefix,
    string Pooling,
    bool Normalize,
    string Preprocess,
    IReadOnlyList<ShardBlob> Blobs);

/// <summary>One blob of a shard; the etag is the listed version (null for explicit lists).</summary>
public sealed record ShardBlob(string Name, string? Etag);

/// <summary>The queue message that asks a worker to process one shard.</summary>
public sealed record ShardMessage([property: JsonPropertyName("jobId")] string JobId, [property: JsonPropertyName("shard")] int Shard);

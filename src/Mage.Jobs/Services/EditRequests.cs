using System.Text.Json;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Inference.Imaging;

namespace Mage.Jobs.Services;

/// <summary>A blob reference in a request.</summary>
public sealed record BlobRef(string? Container, string? Name);

/// <summary>An inpaint, outpaint or uncrop request as it arrives. Unknown members are rejected.</summary>
public sealed record EditRequest(
    string? RequestId,
    string? Kind,
    BlobRef? Source,
    BlobRef? Mask,
    IReadOnlyList<IReadOnlyList<int>>? Boxes,
    int? Dilate,
    int? Left,
    int? Right,
    int? Top,
    int? Bottom,
    double? Scale,
    IReadOnlyList<int>? Position,
    int? Steps,
    double? Temperature,
    ulong? Seed,
    bool? Deterministic,
    bool? Blend,
    string? Preprocess,
    OutputRequest? Output);

/// <summary>An unconditional generation request as it arrives. Unknown members are rejected.</summary>
public sealed record GenerateRequestMessage(
    string? RequestId,
    int? Count,
    ulong? Seed,
    int? Steps,
    double? Temperature,
    bool? Deterministic,
    OutputRequest? Output);

/// <summary>Where a request's outputs go, once validated.</summary>
public sealed record RequestTarget(string RequestId, string Container, string Folder);

/// <summary>Validation shared by edit and generation requests. Stateless and thread-safe.</summary>
public static class RequestValidation
{
    /// <summary>Deserializes strictly; returns the error message instead of throwing.</summary>
    public static T? Deserialize<T>(string json, out string? error)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, JsonDefaults.Strict);
            error = value is null ? "The message is empty (null)." : null;
            return value;
        }
        catch (JsonException e)
        {
            error = $"The message is not valid: {e.Message}";
            return null;
        }
    }

    /// <summary>The output folder of a request, or an error.</summary>
    public static RequestTarget? Target(string? requestId, OutputRequest? output, string defaultContainer, string defaultPrefix, LimitSettings limits, out string? error)
    {
        if (!BlobNames.IsId(requestId))
        {
            error = $"requestId '{requestId}' must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.";
            return null;
        }

        var container = output?.Container ?? defaultContainer;
        if (!BlobNames.IsContainerName(container))
        {
            error = $"output.container '{container}' is not a valid container name.";
            return null;
        }

        var prefix = output?.Prefix ?? defaultPrefix;
        if (BlobNames.CheckPrefix(prefix, limits.MaxBlobNameLength) is { } problem)
        {
            error = $"output.prefix: {problem}";
            return null;
        }

        error = null;
        return new RequestTarget(requestId!, container, ResultsLayout.RequestFolder(prefix, requestId!));
    }

    /// <summary>Checks the decoding schedule.</summary>
    public static string? Schedule(int steps, double temperature, LimitSettings limits)
    {
        if (steps < 1 || steps > limits.MaxSteps)
        {
            return $"steps {steps} must be between 1 and {limits.MaxSteps}.";
        }

        return !double.IsFinite(temperature) || temperature < 0 || temperature > 100
            ? $"temperature {temperature} must be a finite number between 0 and 100."
            : null;
    }

    /// <summary>Checks a blob reference.</summary>
    public static string? Blob(BlobRef? blob, string field, LimitSettings limits)
    {
        if (blob is null)
        {
            return $"{field} is required: {{ \"container\": ..., \"name\": ... }}.";
        }

        if (!BlobNames.IsContainerName(blob.Container))
        {
            return $"{field}.container '{blob.Container}' is not a valid container name.";
        }

        return BlobNames.CheckBlobName(blob.Name, limits.MaxBlobNameLength) is { } problem ? $"{field}.name: {problem}" : null;
    }

    public static bool TryPreprocess(string? name, out PreprocessMode mode) => ImagePreprocessor.TryParseMode(name ?? "square", out mode);
}

/// <summary>The result.json (or error.json) of an edit or generation request.</summary>
public sealed record RequestRecord(
    string RequestId,
    string Status,
    string? Kind,
    IReadOnlyList<string> Outputs,
    ModelInfo? Model,
    object? Parameters,
    double? ElapsedMs,
    string? Reason);

/// <summary>What happened to one edit or generation request.</summary>
public sealed record RequestOutcome(string Status, string? Folder, string? Error = null);

using Mage.Inference;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Requests;

/// <summary>Validation shared by edit and generation requests. Stateless and thread-safe.</summary>
internal static class RequestValidation
{
    /// <summary>
    /// The output folder of a request, or an error and its reason (<see cref="ErrorReason.NameTooLong"/>
    /// for a prefix whose paths would not fit Azure, else <see cref="ErrorReason.InvalidRequest"/>).
    /// </summary>
    public static RequestTarget? Target(string? requestId, OutputRequest? output, string defaultContainer, string defaultPrefix, LimitSettings limits, out string? error, out ErrorReason reason)
    {
        ArgumentNullException.ThrowIfNull(limits);
        reason = ErrorReason.InvalidRequest;
        if (!BlobNames.IsId(requestId))
        {
            error = $"requestId '{requestId}' must be {BlobNames.IdRule}.";
            return null;
        }

        var container = output?.Container ?? defaultContainer;
        if (!BlobNames.IsContainerName(container))
        {
            error = $"output.container '{container}' is not a valid container name.";
            return null;
        }

        var prefix = output?.Prefix ?? defaultPrefix;
        if (BlobNames.CheckPrefix(prefix, limits.MaxBlobNameLength, ResultsLayout.RequestPrefixSuffix) is { } problem)
        {
            error = $"output.prefix: {problem.Message}";
            reason = problem.Reason == ErrorReason.NameTooLong ? ErrorReason.NameTooLong : ErrorReason.InvalidRequest;
            return null;
        }

        error = null;
        return new RequestTarget(requestId!, container, ResultsLayout.RequestFolder(prefix, requestId!));
    }

    /// <summary>Checks the decoding schedule against <see cref="MageDefaults"/>.</summary>
    public static string? Schedule(int steps, double temperature) =>
        MageDefaults.CheckSteps(steps, "steps") ?? MageDefaults.CheckTemperature(temperature, "temperature");

    /// <summary>Checks a blob reference.</summary>
    public static string? Blob(BlobRef? blob, string field, LimitSettings limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (blob is null)
        {
            return $"{field} is required: {{ \"container\": ..., \"name\": ... }}.";
        }

        if (!BlobNames.IsContainerName(blob.Container))
        {
            return $"{field}.container '{blob.Container}' is not a valid container name.";
        }

        return BlobNames.CheckBlobName(blob.Name, limits.MaxBlobNameLength) is { } problem ? $"{field}.name: {problem.Message}" : null;
    }
}

using System.Diagnostics;
using Mage.Jobs.Events;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Inference;
using Mage.Inference.Engine;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Services;

/// <summary>Unconditional generation: <c>{prefix}/{requestId}/image-{i}.png</c>, <c>tokens.npy</c> (int64 [count, 256]) and <c>result.json</c>.</summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class GenerateService(IMageEngineSource engines, RequestResults results, IOptions<LimitSettings> limits)
{
    public const string DefaultPrefix = "generate/";

    /// <summary>Handles one generation message; bad requests end in error.json, not an exception.</summary>
    public async Task<RequestOutcome> ProcessAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var l = limits.Value;
        var request = RequestValidation.Deserialize<GenerateRequestMessage>(message, out var error);
        var target = request is null ? null : RequestValidation.Target(request.RequestId, request.Output, results.ResultsContainer, DefaultPrefix, l, out error);
        if (target is null || request is null)
        {
            return await results.FailAsync(null, message, DefaultPrefix, "generate", error!, MageEventTypes.GenerateFailed, cancellationToken).ConfigureAwait(false);
        }

        if (await results.IsDoneAsync(target, cancellationToken).ConfigureAwait(false))
        {
            return new RequestOutcome("skipped", target.Folder);
        }

        var count = request.Count ?? 1;
        var steps = request.Steps ?? 20;
        var temperature = request.Temperature ?? 6.0;
        error = count < 1 || count > l.MaxGenerateCount
            ? $"count {count} must be between 1 and {l.MaxGenerateCount}."
            : RequestValidation.Schedule(steps, temperature, l);
        if (error is not null)
        {
            return await results.FailAsync(target, message, DefaultPrefix, "generate", error, MageEventTypes.GenerateFailed, cancellationToken).ConfigureAwait(false);
        }

        var timer = Stopwatch.StartNew();
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        var generateRequest = new GenerateRequest(count, request.Seed ?? 0, steps, temperature, request.Deterministic ?? false);
        IReadOnlyList<GeneratedImage> images;
        try
        {
            images = await engine.GenerateAsync(generateRequest, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRequestException e)
        {
            return await results.FailAsync(target, message, DefaultPrefix, "generate", e.Message, MageEventTypes.GenerateFailed, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var outputs = new List<string>();
            for (var i = 0; i < images.Count; i++)
            {
                outputs.Add(await results.WritePngAsync(target, $"image-{i}.png", images[i].Image, cancellationToken).ConfigureAwait(false));
            }

            outputs.Add(await results.WriteTokensAsync(target, [.. images.Select(x => x.Tokens)], cancellationToken).ConfigureAwait(false));
            var package = engine.Model.Package;
            var record = new RequestRecord(target.RequestId, "completed", "generate", outputs,
                new ModelInfo(package.Manifest.Arch, package.ContentHash, package.Manifest.Precision, package.FeatureDim, engine.Model.Device.Description),
                generateRequest, timer.Elapsed.TotalMilliseconds, null);
            return await results.CompleteAsync(target, record, MageEventTypes.GenerateCompleted, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var image in images)
            {
                image.Dispose();
            }
        }
    }
}

using System.Diagnostics;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Requests;

/// <summary>
/// Unconditional generation: <c>{prefix}/{requestId}/image-{i}.png</c>, <c>tokens.npy</c>
/// (<see cref="Inference.Numpy.TokenFile"/>, [count, 256]) and <c>result.json</c>.
/// </summary>
/// <remarks>
/// Thread-safe singleton. The request is claimed (<see cref="RequestLifecycle"/>, a blob lease on
/// <c>claim</c> in its folder) before it is computed; a copy that finds the claim held throws
/// <see cref="WorkClaimedException"/> and is retried later.
/// </remarks>
public sealed class GenerateService(IMageEngineSource engines, RequestLifecycle results, IOptions<LimitSettings> limits)
{
    public const string DefaultPrefix = "generate/";

    /// <summary>Handles one generation message; bad requests end in error.json, not an exception.</summary>
    public async Task<RequestOutcome> ProcessAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var l = limits.Value;
        var start = await results.StartAsync<GenerateMessage>(
            message, DefaultPrefix, r => (r.RequestId, r.Output), _ => RequestKind.Generate, MageEventTypes.GenerateFailed, l, cancellationToken).ConfigureAwait(false);
        if (start.Finished is { } finished)
        {
            return finished;
        }

        var (request, target) = (start.Request!, start.Target!);
        var count = request.Count ?? 1;
        var steps = request.Steps ?? MageDefaults.GenerateSteps;
        var temperature = request.Temperature ?? MageDefaults.GenerateTemperature;
        var error = count < 1 || count > l.MaxGenerateCount
            ? $"count {count} must be between 1 and {l.MaxGenerateCount}."
            : RequestValidation.Schedule(steps, temperature);
        if (error is not null)
        {
            return await results.FailAsync(target, message, DefaultPrefix, RequestKind.Generate, ErrorReason.InvalidRequest, error, MageEventTypes.GenerateFailed, cancellationToken).ConfigureAwait(false);
        }

        await using var claim = await results.ClaimAsync(target, cancellationToken).ConfigureAwait(false);
        if (claim is null)
        {
            return new RequestOutcome(Outcome.Skipped, target.Folder);
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
            return await results.FailAsync(target, message, DefaultPrefix, RequestKind.Generate, ErrorReason.InvalidRequest, e.Message, MageEventTypes.GenerateFailed, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var outputs = new List<string>();
            for (var i = 0; i < images.Count; i++)
            {
                outputs.Add(await results.WritePngAsync(target, i, images[i].Image, cancellationToken).ConfigureAwait(false));
            }

            outputs.Add(await results.WriteTokensAsync(target, [.. images.Select(x => x.Tokens)], cancellationToken).ConfigureAwait(false));
            var record = new RequestRecord(target.RequestId, Outcome.Completed, RequestKind.Generate, outputs, ModelInfo.Of(engine.Model),
                generateRequest, timer.Elapsed.TotalMilliseconds, null, null);
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

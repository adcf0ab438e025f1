using System.Diagnostics;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Jobs.Coordination;
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
/// Thread-safe singleton. <see cref="RequestLifecycle"/> reads, refuses, skips and claims the
/// message; this service validates a generation and computes it.
/// </remarks>
public sealed class GenerateService(IMageEngineSource engines, RequestLifecycle lifecycle, IOptions<LimitSettings> limits)
{
    public const string DefaultPrefix = "generate/";

    /// <summary>Handles one generation message; bad requests end in error.json, not an exception.</summary>
    /// <exception cref="WorkClaimedException">Another delivery is working on the request; retry the message later.</exception>
    public Task<RequestOutcome> ProcessAsync(string message, CancellationToken cancellationToken = default) =>
        lifecycle.RunAsync<GenerateMessage>(message, RequestChannel.Generations, r => Validate(r, limits.Value), work => GenerateAsync(work, cancellationToken), cancellationToken);

    /// <summary>The service's own checks of a readable request (<see cref="RequestLifecycle.Check"/> runs them); null when it may run.</summary>
    internal static string? Validate(GenerateMessage r, LimitSettings l)
    {
        var count = r.Count ?? 1;
        return count < 1 || count > l.MaxGenerateCount
            ? $"count {count} must be between 1 and {l.MaxGenerateCount}."
            : RequestValidation.Schedule(r.Steps ?? MageDefaults.GenerateSteps, r.Temperature ?? MageDefaults.GenerateTemperature);
    }

    private async Task<RequestOutcome> GenerateAsync(RequestWork<GenerateMessage> work, CancellationToken cancellationToken)
    {
        var request = work.Request;
        var timer = Stopwatch.StartNew();
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        var generateRequest = new GenerateRequest(
            request.Count ?? 1, request.Seed ?? 0, request.Steps ?? MageDefaults.GenerateSteps, request.Temperature ?? MageDefaults.GenerateTemperature, request.Deterministic ?? false);
        IReadOnlyList<GeneratedImage> images;
        try
        {
            images = await engine.GenerateAsync(generateRequest, work.Progress, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRequestException e)
        {
            return await work.FailAsync(ErrorReason.InvalidRequest, e.Message, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var outputs = new List<string>();
            for (var i = 0; i < images.Count; i++)
            {
                outputs.Add(await work.WritePngAsync(i, images[i].Image, cancellationToken).ConfigureAwait(false));
            }

            outputs.Add(await work.WriteTokensAsync([.. images.Select(x => x.Tokens)], cancellationToken).ConfigureAwait(false));
            var record = new RequestRecord(work.Target.RequestId, RecordStatus.Completed, RequestKind.Generate, outputs, ModelInfo.Of(engine.Model),
                generateRequest, timer.Elapsed.TotalMilliseconds, null, null);
            return await work.CompleteAsync(record, cancellationToken).ConfigureAwait(false);
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

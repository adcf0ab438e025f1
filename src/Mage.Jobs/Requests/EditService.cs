using System.Diagnostics;
using Azure.Storage.Blobs;
using Mage.Inference;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Jobs.Coordination;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Requests;

/// <summary>
/// Inpainting, outpainting and uncropping of a stored image: <c>{prefix}/{requestId}/image-0.png</c>,
/// <c>tokens.npy</c> (<see cref="Inference.Numpy.TokenFile"/>, [windows, 256]) and <c>result.json</c>.
/// </summary>
/// <remarks>
/// Thread-safe singleton. <see cref="RequestLifecycle"/> reads, refuses, skips and claims the
/// message; this service validates an edit and computes it.
/// </remarks>
public sealed class EditService(BlobServiceClient blobs, IMageEngineSource engines, RequestLifecycle lifecycle, IOptions<LimitSettings> limits)
{
    public const string DefaultPrefix = "edits/";

    /// <summary>Handles one edit message; bad requests and bad images end in error.json, not an exception.</summary>
    /// <exception cref="WorkClaimedException">Another delivery is working on the request; retry the message later.</exception>
    public Task<RequestOutcome> ProcessAsync(string message, CancellationToken cancellationToken = default) =>
        lifecycle.RunAsync<EditMessage>(message, RequestChannel.Edits, r => Validate(r, limits.Value), work => EditAsync(work, cancellationToken), cancellationToken);

    private async Task<RequestOutcome> EditAsync(RequestWork<EditMessage> work, CancellationToken cancellationToken)
    {
        var request = work.Request;
        var timer = Stopwatch.StartNew();
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        var options = new EditOptions(
            request.Steps ?? MageDefaults.EditSteps, request.Temperature ?? MageDefaults.EditTemperature, request.Deterministic ?? false, request.Seed ?? 0, request.Blend ?? true);
        EditResult edit;
        try
        {
            var sourceBytes = await DownloadAsync(request.Source!, "source", cancellationToken).ConfigureAwait(false);
            using var decoded = engine.LoadImage(sourceBytes, request.Source!.Name);
            using var image = ImagePreprocessor.Apply(decoded, request.Preprocess ?? MageDefaults.EditPreprocess);
            edit = request.Kind switch
            {
                RequestKind.Inpaint => await InpaintAsync(engine, image, request, options, work.Progress, cancellationToken).ConfigureAwait(false),
                RequestKind.Outpaint => await engine.OutpaintAsync(image, request.Left ?? 0, request.Right ?? 0, request.Top ?? 0, request.Bottom ?? 0, options, work.Progress, cancellationToken).ConfigureAwait(false),
                RequestKind.Uncrop => await engine.UncropAsync(image, request.Scale!.Value, request.Position is { } p ? (p[0], p[1]) : null, options, work.Progress, cancellationToken).ConfigureAwait(false),
                _ => throw new UnreachableException($"Validate let kind {request.Kind} through."),
            };
        }
        catch (ImageDecodeException e)
        {
            return await work.FailAsync(ErrorReasons.From(e.Reason), e.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (SourceReadException e)
        {
            return await work.FailAsync(e.Reason, e.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRequestException e)
        {
            return await work.FailAsync(ErrorReason.InvalidRequest, e.Message, cancellationToken).ConfigureAwait(false);
        }

        using (edit)
        {
            var outputs = new List<string>
            {
                await work.WritePngAsync(0, edit.Image, cancellationToken).ConfigureAwait(false),
                await work.WriteTokensAsync(edit.Tokens, cancellationToken).ConfigureAwait(false),
            };
            var record = new RequestRecord(work.Target.RequestId, RecordStatus.Completed, request.Kind, outputs, ModelInfo.Of(engine.Model),
                request with { RequestId = null }, timer.Elapsed.TotalMilliseconds, null, null);
            return await work.CompleteAsync(record, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The service's own checks of a readable request (<see cref="RequestLifecycle.Check"/> runs them); null when it may run.</summary>
    internal static string? Validate(EditMessage r, LimitSettings l)
    {
        if (r.Kind is not (RequestKind.Inpaint or RequestKind.Outpaint or RequestKind.Uncrop))
        {
            return r.Kind is null
                ? $"kind is required: one of inpaint, outpaint, uncrop."
                : $"kind '{Inference.WireNames.Of(r.Kind.Value)}' is not an edit; edits are inpaint, outpaint and uncrop.";
        }

        if (RequestValidation.Blob(r.Source, "source", l) is { } sourceProblem)
        {
            return sourceProblem;
        }

        if (RequestValidation.Schedule(r.Steps ?? MageDefaults.EditSteps, r.Temperature ?? MageDefaults.EditTemperature) is { } scheduleProblem)
        {
            return scheduleProblem;
        }

        if (OtherKindsFields(r) is { } foreign)
        {
            return foreign;
        }

        return r.Kind switch
        {
            RequestKind.Inpaint => ValidateInpaint(r, l),
            RequestKind.Outpaint => ValidateOutpaint(r, l),
            RequestKind.Uncrop => ValidateUncrop(r),
            _ => throw new UnreachableException($"kind {r.Kind} passed the edit-kind check."),
        };
    }

    /// <summary>
    /// A field another kind takes (an outpaint's <c>mask</c>, an inpaint's <c>scale</c>): refused, not
    /// ignored, since the sender expects it to do something. The message begins with the first one.
    /// </summary>
    private static string? OtherKindsFields(EditMessage r)
    {
        var fields = new (string Name, bool Given, RequestKind Kind)[]
        {
            ("mask", r.Mask is not null, RequestKind.Inpaint), ("boxes", r.Boxes is not null, RequestKind.Inpaint), ("dilate", r.Dilate is not null, RequestKind.Inpaint),
            ("left", r.Left is not null, RequestKind.Outpaint), ("right", r.Right is not null, RequestKind.Outpaint),
            ("top", r.Top is not null, RequestKind.Outpaint), ("bottom", r.Bottom is not null, RequestKind.Outpaint),
            ("scale", r.Scale is not null, RequestKind.Uncrop), ("position", r.Position is not null, RequestKind.Uncrop),
        };
        var foreign = fields.Where(f => f.Given && f.Kind != r.Kind).ToList();
        return foreign.Count == 0
            ? null
            : $"{foreign[0].Name} is a field of kind {Inference.WireNames.Of(foreign[0].Kind)}, not of {Inference.WireNames.Of(r.Kind!.Value)}; leave out {string.Join(", ", foreign.Select(f => f.Name))}.";
    }

    private static string? ValidateInpaint(EditMessage r, LimitSettings l)
    {
        if ((r.Mask is null) == (r.Boxes is null))
        {
            return "inpaint needs exactly one of mask (a blob) and boxes ([[x, y, w, h], ...]).";
        }

        if (r.Mask is not null && RequestValidation.Blob(r.Mask, "mask", l) is { } maskProblem)
        {
            return maskProblem;
        }

        if (r.Boxes is not null && (r.Boxes.Count == 0 || r.Boxes.Count > 256 || r.Boxes.Any(b => b is null || b.Count != 4)))
        {
            return "boxes must hold 1-256 boxes of four integers [x, y, w, h] in pixels of the 256x256 image.";
        }

        return r.Dilate is < 0 or > TokenMask.MaxDilation
            ? $"dilate {r.Dilate} must be between 0 and {TokenMask.MaxDilation} tokens."
            : null;
    }

    private static string? ValidateOutpaint(EditMessage r, LimitSettings l)
    {
        int[] margins = [r.Left ?? 0, r.Right ?? 0, r.Top ?? 0, r.Bottom ?? 0];
        if (margins.Any(m => m < 0 || m > l.MaxOutpaintMargin))
        {
            return $"left, right, top and bottom must each be between 0 and {l.MaxOutpaintMargin} pixels.";
        }

        return margins.All(m => m == 0) ? "outpaint needs at least one of left, right, top, bottom above 0." : null;
    }

    private static string? ValidateUncrop(EditMessage r)
    {
        if (r.Scale is not { } scale || !double.IsFinite(scale) || scale < MageDefaults.MinUncropScale || scale >= 1)
        {
            return $"scale {r.Scale} must be at least {MageDefaults.MinUncropScale} and below 1 (the size of the original on the new canvas).";
        }

        return r.Position is not null && r.Position.Count != 2 ? "position must be [x, y] in pixels." : null;
    }

    private async Task<EditResult> InpaintAsync(MageEngine engine, Image<Rgb24> image, EditMessage r, EditOptions options, IProgress<StepProgress> progress, CancellationToken cancellationToken)
    {
        if (r.Mask is not null)
        {
            var maskBytes = await DownloadAsync(r.Mask, "mask", cancellationToken).ConfigureAwait(false);
            var mask = PixelMask.Load(maskBytes, engine.Options.Limits, image.Width, image.Height, r.Mask.Name);
            return await engine.InpaintAsync(image, mask, r.Dilate ?? 0, options, progress, cancellationToken).ConfigureAwait(false);
        }

        var boxes = r.Boxes!.Select(b => new PixelBox(b[0], b[1], b[2], b[3])).ToArray();
        return await engine.InpaintAsync(image, boxes, r.Dilate ?? 0, options, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> DownloadAsync(BlobRef blob, string field, CancellationToken cancellationToken)
    {
        var client = blobs.GetBlobContainerClient(blob.Container).GetBlobClient(blob.Name);
        return (await SourceReads.DownloadAsync(client, field, limits.Value.MaxImageBytes, null, cancellationToken).ConfigureAwait(false)).Bytes;
    }
}

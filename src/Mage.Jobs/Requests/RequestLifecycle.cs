using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Mage.Inference.Numpy;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Requests;

/// <summary>
/// Writes the outputs of edit and generation requests: data files first, then result.json (or
/// error.json) through the <see cref="WorkCommits"/>; the record's existence marks the request done.
/// </summary>
/// <remarks>
/// Thread-safe singleton. Public only because <see cref="EditService"/> and <see cref="GenerateService"/>
/// take it in their public constructors (dependency injection); its members are internal.
/// </remarks>
public sealed partial class RequestLifecycle(BlobServiceClient blobs, WorkCommits commits, IOptions<StorageSettings> storage, ILogger<RequestLifecycle> logger)
{
    /// <summary>The default output container.</summary>
    internal string ResultsContainer => storage.Value.ResultsContainer;

    /// <summary>True when the request already has a result or an error (whose event is then published if a crashed delivery left it unpublished).</summary>
    internal Task<bool> IsDoneAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var (result, error) = Records(target);
        return commits.IsCommittedAsync(result, error, cancellationToken);
    }

    /// <summary>True when the request has a record whose event has gone out; publishes nothing (see <see cref="WorkCommits.IsSettledAsync"/>).</summary>
    private Task<bool> IsSettledAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        var (result, error) = Records(target);
        return commits.IsSettledAsync(result, error, cancellationToken);
    }

    /// <summary>The request's <c>result.json</c> and <c>error.json</c>.</summary>
    private (BlobClient Result, BlobClient Error) Records(RequestTarget target)
    {
        var container = blobs.GetBlobContainerClient(target.Container);
        return (container.GetBlobClient(ResultsLayout.RequestResult(target.Folder)), container.GetBlobClient(ResultsLayout.Error(target.Folder)));
    }

    /// <summary>
    /// The common start of an edit or generation message: reads it, works out where its records go
    /// (its own folder even when only its requestId can be read), and finishes it when it already
    /// has a record (<see cref="Outcome.Skipped"/>) or cannot be read or addressed (error.json written;
    /// when its output container does not exist, in the same folder of the default results container).
    /// </summary>
    /// <param name="message">The message body.</param>
    /// <param name="defaultPrefix">The output prefix when the message names none.</param>
    /// <param name="address">The message's requestId and output.</param>
    /// <param name="kind">What the message asks for, for the error record.</param>
    /// <param name="failedEvent">The event type of a failure.</param>
    /// <param name="limits">The limits on names.</param>
    /// <param name="cancellationToken">Cancels storage calls.</param>
    internal async Task<RequestStart<T>> StartAsync<T>(
        string message, string defaultPrefix, Func<T, (string? RequestId, OutputRequest? Output)> address, Func<T?, RequestKind?> kind, string failedEvent, LimitSettings limits, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(kind);
        var request = MessageJson.Deserialize<T>(message, "message", out var error);
        RequestTarget? target;
        if (request is null)
        {
            target = SalvagedTarget(message, defaultPrefix, limits);
        }
        else
        {
            var (requestId, output) = address(request);
            target = RequestValidation.Target(requestId, output, ResultsContainer, defaultPrefix, limits, out error);
        }

        if (target is not null && await MissingOutputAsync(target, cancellationToken).ConfigureAwait(false) is { } missing)
        {
            // Its output container does not exist: record the error in the same folder of the default results container.
            target = target with { Container = ResultsContainer };
            return new(request, target, await FailAsync(target, message, defaultPrefix, kind(request), ErrorReason.Missing, missing, failedEvent, cancellationToken).ConfigureAwait(false));
        }

        // Settled, not done: a leftover event is published under the claim (ClaimAsync), not while its holder may be publishing it.
        if (target is not null && await IsSettledAsync(target, cancellationToken).ConfigureAwait(false))
        {
            return new(request, target, new RequestOutcome(Outcome.Skipped, target.Folder));
        }

        if (target is null || request is null)
        {
            var reason = request is null ? ErrorReason.InvalidMessage : ErrorReason.InvalidRequest;
            return new(request, target, await FailAsync(target, message, defaultPrefix, kind(request), reason, error!, failedEvent, cancellationToken).ConfigureAwait(false));
        }

        return new(request, target, null);
    }

    /// <summary>
    /// Claims the request before it is computed (<see cref="ResultsLayout.Claim"/> in its folder).
    /// Throws <see cref="WorkClaimedException"/> while another delivery holds the claim; returns null
    /// when the holder finished the request meanwhile (the caller then reports it skipped).
    /// </summary>
    internal async Task<WorkClaim?> ClaimAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var marker = blobs.GetBlobContainerClient(target.Container).GetBlobClient(ResultsLayout.Claim(target.Folder));
        var claim = await WorkClaim.TryAcquireAsync(marker, cancellationToken).ConfigureAwait(false)
            ?? throw WorkClaimedException.For($"Request {target.RequestId}", $"{target.Container}/{marker.Name}");
        try
        {
            if (!await IsDoneAsync(target, cancellationToken).ConfigureAwait(false))
            {
                return claim;
            }
        }
        catch
        {
            await claim.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await claim.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>Writes image <paramref name="index"/> as PNG and returns its container/name path.</summary>
    internal async Task<string> WritePngAsync(RequestTarget target, int index, Image<Rgb24> image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        await image.SaveAsPngAsync(stream, cancellationToken).ConfigureAwait(false);
        return await WriteAsync(target, ResultsLayout.RequestImage(target.Folder, index), BinaryData.FromBytes(stream.ToArray()), "image/png", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes token grids (<see cref="TokenFile"/>: int64 [n, 256]) and returns the container/name path.</summary>
    internal Task<string> WriteTokensAsync(RequestTarget target, IReadOnlyList<long[]> tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        return WriteAsync(target, ResultsLayout.Tokens(target.Folder), BinaryData.FromBytes(TokenFile.ToBytes(tokens)), "application/octet-stream", cancellationToken);
    }

    /// <summary>Commits result.json and publishes the completion event.</summary>
    internal async Task<RequestOutcome> CompleteAsync(RequestTarget target, RequestRecord record, string eventType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(record);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(ResultsLayout.RequestResult(target.Folder));
        var data = new MageEventData(null, target.RequestId, Outcome.Completed, [.. record.Outputs, $"{target.Container}/{blob.Name}"]);
        if (await commits.CommitAsync(blob, record, new MageEventDraft(eventType, Subject(target), target.Folder, data), cancellationToken).ConfigureAwait(false))
        {
            LogCompleted(logger, target.RequestId, target.Container, target.Folder);
        }

        return new RequestOutcome(Outcome.Completed, target.Folder);
    }

    /// <summary>
    /// Writes error.json (once) and publishes the failure event. With no usable target, the error
    /// goes under <see cref="ResultsLayout.RejectedRequestFolder"/> of <paramref name="defaultPrefix"/>.
    /// </summary>
    internal async Task<RequestOutcome> FailAsync(
        RequestTarget? target, string message, string defaultPrefix, RequestKind? kind, ErrorReason reason, string error, string eventType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        target ??= new RequestTarget("_rejected", storage.Value.ResultsContainer,
            ResultsLayout.RejectedRequestFolder(defaultPrefix, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message)))[..32]));
        LogFailed(logger, target.RequestId, reason, error);
        var record = new RequestRecord(target.RequestId, Outcome.Failed, kind, [], null, null, null, reason, error);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(ResultsLayout.Error(target.Folder));
        var text = ErrorReasons.Format(reason, error);
        try
        {
            var data = new MageEventData(null, target.RequestId, Outcome.Failed, [$"{target.Container}/{blob.Name}"], text);
            await commits.CommitAsync(blob, record, new MageEventDraft(eventType, Subject(target), target.Folder, data), cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException e) when (BlobWrites.IsNotFound(e))
        {
            // The requested output container does not exist: nowhere to put error.json; the event still tells.
            var data = new MageEventData(null, target.RequestId, Outcome.Failed, [], $"{text} (output container '{target.Container}' does not exist)");
            await commits.PublishAsync(new MageEventDraft(eventType, Subject(target), target.Folder, data), cancellationToken).ConfigureAwait(false);
        }

        return new RequestOutcome(Outcome.Failed, target.Folder, text);
    }

    /// <summary>
    /// Null when the target's container exists (the default results container is created again if
    /// it vanished and <see cref="StorageSettings.CreateMissing"/> allows), else why it does not.
    /// </summary>
    private async Task<string?> MissingOutputAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(target.Container);
        if (await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return target.Container == ResultsContainer
            ? await ContainerRepair.EnsureAsync(container, storage.Value.CreateMissing, cancellationToken).ConfigureAwait(false)
            : $"output {StorageErrors.NotFound(StorageResource.Of(container))} This error is recorded in the default results container '{ResultsContainer}'.";
    }

    /// <summary>The target of a message that could not be read, when its requestId still can be: its error goes where its sender looks.</summary>
    private RequestTarget? SalvagedTarget(string message, string defaultPrefix, LimitSettings limits) =>
        MessageJson.SalvageId(message, "requestId") is { } id
            ? RequestValidation.Target(id, null, ResultsContainer, defaultPrefix, limits, out _)
            : null;

    private static string Subject(RequestTarget target) => $"requests/{target.RequestId}";

    private async Task<string> WriteAsync(RequestTarget target, string name, BinaryData content, string contentType, CancellationToken cancellationToken)
    {
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(name);
        await BlobWrites.WriteAsync(blob, content, contentType, cancellationToken).ConfigureAwait(false);
        return $"{target.Container}/{blob.Name}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} completed into {Container}/{Folder}")]
    private static partial void LogCompleted(ILogger logger, string requestId, string container, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} failed ({Reason}): {Error}")]
    private static partial void LogFailed(ILogger logger, string requestId, ErrorReason reason, string error);
}

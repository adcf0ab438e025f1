using Azure.Storage.Blobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Requests;

/// <summary>
/// The life of an edit or generation message, the same for every request channel: read it, work
/// out where its records go, skip it when it is settled, refuse it (error.json) when it cannot be
/// read, addressed or validated, claim it, and hand it to the service as a <see cref="RequestWork{T}"/>
/// whose steps write its files and commit result.json or error.json through <see cref="WorkCommits"/>.
/// </summary>
/// <remarks>
/// Thread-safe singleton. Public only because <see cref="EditService"/> and <see cref="GenerateService"/>
/// take it in their public constructors (dependency injection); its members are internal.
/// </remarks>
public sealed partial class RequestLifecycle(BlobServiceClient blobs, WorkCommits commits, IOptions<StorageSettings> storage, IOptions<LimitSettings> limits, ILogger<RequestLifecycle> logger)
{
    /// <summary>The default output container.</summary>
    private string ResultsContainer => storage.Value.ResultsContainer;

    /// <summary>
    /// Handles one message of <paramref name="channel"/>: every refusal ends in error.json and a
    /// failed outcome, a settled request is skipped, and <paramref name="run"/> does the work of a
    /// valid request under its claim.
    /// </summary>
    /// <param name="message">The message body.</param>
    /// <param name="channel">The message's family: default prefix, kind and event types.</param>
    /// <param name="validate">The service's checks of a readable message; null when it may run.</param>
    /// <param name="run">The work, given the claimed request.</param>
    /// <param name="cancellationToken">Cancels storage calls and the work.</param>
    /// <exception cref="WorkClaimedException">Another delivery is working on the request; retry the message later.</exception>
    internal async Task<RequestOutcome> RunAsync<T>(
        string message, RequestChannel channel, Func<T, string?> validate, Func<RequestWork<T>, Task<RequestOutcome>> run, CancellationToken cancellationToken)
        where T : class, IRequestMessage
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(validate);
        ArgumentNullException.ThrowIfNull(run);
        var l = limits.Value;
        var request = MessageJson.Deserialize<T>(message, "message", out var error);
        var targetReason = ErrorReason.InvalidRequest;
        var target = request is null
            ? SalvagedTarget(message, channel, l)
            : RequestValidation.Target(request.RequestId, request.Output, ResultsContainer, channel.DefaultPrefix, l, out error, out targetReason);
        var kind = channel.KindOf(request);
        if (target is not null && await MissingOutputAsync(target, cancellationToken).ConfigureAwait(false) is { } missing)
        {
            // Its output container does not exist: record the error in the same folder of the default results container.
            return await FailAsync(channel, target with { Container = ResultsContainer }, kind, ErrorReason.Missing, missing, null, cancellationToken).ConfigureAwait(false);
        }

        // Settled, not done: a leftover event is published under the claim, not while its holder may be publishing it.
        if (target is not null && await commits.IsSettledAsync(Unit(target), cancellationToken).ConfigureAwait(false))
        {
            return new RequestOutcome(WorkOutcome.Skipped, target.Folder);
        }

        if (target is null || request is null)
        {
            var reason = request is null ? ErrorReason.InvalidMessage : targetReason;
            target ??= new RequestTarget("_rejected", ResultsContainer, ResultsLayout.RejectedRequestFolder(channel.DefaultPrefix, MessageJson.Hash(message)));
            return await FailAsync(channel, target, kind, reason, error!, null, cancellationToken).ConfigureAwait(false);
        }

        if (validate(request) is { } problem)
        {
            return await FailAsync(channel, target, kind, ErrorReason.InvalidRequest, problem, null, cancellationToken).ConfigureAwait(false);
        }

        var claimed = await commits.ClaimAsync(Unit(target), cancellationToken).ConfigureAwait(false);
        if (claimed is null)
        {
            return new RequestOutcome(WorkOutcome.Skipped, target.Folder);
        }

        await using (claimed.ConfigureAwait(false))
        {
            return await run(new RequestWork<T>(this, channel, request, target, claimed)).ConfigureAwait(false);
        }
    }

    /// <summary>Commits result.json and publishes the completion event.</summary>
    internal async Task<RequestOutcome> CompleteAsync(RequestChannel channel, RequestTarget target, ClaimedWork work, RequestRecord record, CancellationToken cancellationToken)
    {
        var data = new MageEventData(null, target.RequestId, RecordStatus.Completed, [.. record.Outputs, $"{target.Container}/{work.Unit.Record.Name}"]);
        if (await work.CompleteAsync(record, Announce(channel.CompletedEvent, target, data), cancellationToken).ConfigureAwait(false))
        {
            LogCompleted(logger, target.RequestId, target.Container, target.Folder);
        }

        return new RequestOutcome(WorkOutcome.Completed, target.Folder);
    }

    /// <summary>
    /// Writes error.json (once) and publishes the failure event; through <paramref name="work"/>
    /// when the request is claimed. When the output container does not exist, only the event tells.
    /// </summary>
    internal async Task<RequestOutcome> FailAsync(
        RequestChannel channel, RequestTarget target, RequestKind? kind, ErrorReason reason, string error, ClaimedWork? work, CancellationToken cancellationToken)
    {
        LogFailed(logger, target.RequestId, reason, error);
        var record = new RequestRecord(target.RequestId, RecordStatus.Failed, kind, [], null, null, null, reason, error);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(ResultsLayout.Error(target.Folder));
        var text = ErrorReasons.Format(reason, error);
        try
        {
            var announce = Announce(channel.FailedEvent, target, new MageEventData(null, target.RequestId, RecordStatus.Failed, [$"{target.Container}/{blob.Name}"], text));
            await (work is null
                ? commits.CommitRecordAsync(blob, record, announce, cancellationToken)
                : work.FailAsync(record, announce, cancellationToken)).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException e) when (StorageFailures.IsNotFound(e))
        {
            // The requested output container does not exist: nowhere to put error.json; the event still tells.
            var data = new MageEventData(null, target.RequestId, RecordStatus.Failed, [], $"{text} (output container '{target.Container}' does not exist)");
            await commits.PublishAsync(Announce(channel.FailedEvent, target, data), cancellationToken).ConfigureAwait(false);
        }

        return new RequestOutcome(WorkOutcome.Failed, target.Folder, text);
    }

    /// <summary>The request as a unit of work: result.json, error.json and the claim, all in its folder.</summary>
    private WorkUnit Unit(RequestTarget target)
    {
        var container = blobs.GetBlobContainerClient(target.Container);
        return new WorkUnit(
            container.GetBlobClient(ResultsLayout.RequestResult(target.Folder)),
            container.GetBlobClient(ResultsLayout.Error(target.Folder)),
            container.GetBlobClient(ResultsLayout.Claim(target.Folder)),
            $"Request {target.RequestId}");
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
    private RequestTarget? SalvagedTarget(string message, RequestChannel channel, LimitSettings limits) =>
        MessageJson.SalvageId(message, "requestId") is { } id
            ? RequestValidation.Target(id, null, ResultsContainer, channel.DefaultPrefix, limits, out _, out _)
            : null;

    private static MageEventDraft Announce(string type, RequestTarget target, MageEventData data) =>
        new(type, $"requests/{target.RequestId}", target.Folder, data);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} completed into {Container}/{Folder}")]
    private static partial void LogCompleted(ILogger logger, string requestId, string container, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} failed ({Reason}): {Error}")]
    private static partial void LogFailed(ILogger logger, string requestId, ErrorReason reason, string error);
}

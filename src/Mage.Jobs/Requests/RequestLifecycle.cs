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
/// read, addressed or validated, refuse it in the service's own refusals folder when it may not
/// write where it asked (<see cref="ResultsLayout.RefusedRequestFolder"/>), claim it, and hand it to the service as a <see cref="RequestWork{T}"/>
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
        var hash = MessageJson.Hash(message); // names the request's files' owner and its refusals folder
        var request = MessageJson.Deserialize<T>(message, "message", out var error);
        var targetReason = ErrorReason.InvalidRequest;
        var target = request is null
            ? SalvagedTarget(message, channel, l)
            : RequestValidation.Target(request.RequestId, request.Output, ResultsContainer, channel.DefaultPrefix, l, out error, out targetReason);
        var kind = channel.KindOf(request);
        if (target is not null && await RefuseOutputAsync(target, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            // Nothing may be written where it asked: the error goes to the service's own refusals folder.
            return await FailAsync(channel, Refused(channel, target, hash), kind, refusal.Reason, refusal.Message, null, cancellationToken).ConfigureAwait(false);
        }

        // Settled, not done: a leftover event is published under the claim, not while its holder may be publishing it.
        var unit = target is null ? null : Unit(target, hash);
        if (unit is not null && await commits.IsSettledAsync(unit, cancellationToken).ConfigureAwait(false))
        {
            return new RequestOutcome(WorkOutcome.Skipped, target!.Folder);
        }

        if (target is null || request is null)
        {
            var reason = request is null ? ErrorReason.InvalidMessage : targetReason;
            target ??= new RequestTarget("_rejected", ResultsContainer, ResultsLayout.RejectedRequestFolder(channel.DefaultPrefix, hash));
            return await FailAsync(channel, target, kind, reason, error!, null, cancellationToken).ConfigureAwait(false);
        }

        if (Check(request, validate) is { } problem)
        {
            return await FailAsync(channel, target, kind, problem.Reason, problem.Message, null, cancellationToken).ConfigureAwait(false);
        }

        var claimed = await commits.ClaimAsync(unit!, cancellationToken).ConfigureAwait(false);
        if (claimed is null)
        {
            return new RequestOutcome(WorkOutcome.Skipped, target.Folder);
        }

        await using (claimed.ConfigureAwait(false))
        {
            if (await claimed.FindForeignAsync(target.Folder, cancellationToken).ConfigureAwait(false) is { } foreign)
            {
                return await FailAsync(channel, Refused(channel, target, hash), kind, ErrorReason.OutputInUse, InUse(target, foreign), null, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await run(new RequestWork<T>(this, channel, request, target, claimed)).ConfigureAwait(false);
            }
            catch (OutputInUseException e)
            {
                // A blob appeared in the folder while the request ran: what it wrote stays, and nothing of anyone else's is touched.
                return await FailAsync(channel, Refused(channel, target, hash), kind, ErrorReason.OutputInUse, e.Message, null, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The checks of a readable, addressed request that need no storage, in the order every host
    /// applies them (the queue services here, the HTTP API before it enqueues): names too long for
    /// Azure, the service's own <paramref name="validate"/>, then the source allow-list
    /// (<see cref="StorageSettings.CheckSource"/>). Null when the request may run.
    /// </summary>
    internal (ErrorReason Reason, string Message)? Check<T>(T request, Func<T, string?> validate)
        where T : class, IRequestMessage
    {
        if (TooLongRead(request, limits.Value) is { } tooLong)
        {
            return (ErrorReason.NameTooLong, tooLong);
        }

        if (validate(request) is { } problem)
        {
            return (ErrorReason.InvalidRequest, problem);
        }

        return request.Reads.Select(r => storage.Value.CheckSource(r.Blob.Container!, $"{r.Field}.container")).FirstOrDefault(p => p is not null) is { } notReadable
            ? (ErrorReason.NotAllowed, notReadable)
            : null;
    }

    /// <summary>Why a blob the request reads has a name too long for Azure (its own reason, as an upload's or a job row's), or null.</summary>
    private static string? TooLongRead(IRequestMessage request, LimitSettings limits) =>
        request.Reads
            .Select(r => r.Blob.Name is { } name && BlobNames.CheckBlobName(name, limits.MaxBlobNameLength) is { Reason: ErrorReason.NameTooLong } p ? $"{r.Field}.name: {p.Message}" : null)
            .FirstOrDefault(p => p is not null);

    private static string InUse(RequestTarget target, string foreign) =>
        $"output folder '{target.Folder}' in '{target.Container}' holds {foreign}, which this request did not write; nothing was written there. Give the request its own requestId or prefix.";

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

    /// <summary>
    /// The request as a unit of work: result.json and error.json in its folder, its claim in the
    /// jobs container (so claiming writes nothing into a folder that may turn out to be someone
    /// else's), and its files owned by the message (a redelivery of the same message recognises them).
    /// </summary>
    private WorkUnit Unit(RequestTarget target, string messageHash)
    {
        var container = blobs.GetBlobContainerClient(target.Container);
        return new WorkUnit(
            container.GetBlobClient(ResultsLayout.RequestResult(target.Folder)),
            container.GetBlobClient(ResultsLayout.Error(target.Folder)),
            blobs.GetBlobContainerClient(storage.Value.JobsContainer).GetBlobClient(ResultsLayout.RequestClaim(target.Container, target.Folder)),
            $"Request {target.RequestId}",
            $"request:{messageHash}");
    }

    /// <summary>Where a request refused before it may write anything records its error: the channel's refusals folder in the results container.</summary>
    private RequestTarget Refused(RequestChannel channel, RequestTarget target, string messageHash) =>
        target with { Container = ResultsContainer, Folder = ResultsLayout.RefusedRequestFolder(channel.DefaultPrefix, target.RequestId, messageHash) };

    /// <summary>
    /// Null when the request may write in its target folder, else why not: an output container or
    /// folder it may not use (<see cref="ResultsLayout.CheckOutput"/>), or an output container that
    /// does not exist (the default results container is created again if it vanished and
    /// <see cref="StorageSettings.CreateMissing"/> allows).
    /// </summary>
    private async Task<(ErrorReason Reason, string Message)?> RefuseOutputAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        if (ResultsLayout.CheckOutput(storage.Value, target.Container, target.Folder, "output") is { } notAllowed)
        {
            return (ErrorReason.NotAllowed, notAllowed);
        }

        var container = blobs.GetBlobContainerClient(target.Container);
        if (await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var missing = target.Container == ResultsContainer
            ? await ContainerRepair.EnsureAsync(container, storage.Value.CreateMissing, cancellationToken).ConfigureAwait(false)
            : $"output {StorageErrors.NotFound(StorageResource.Of(container))}";
        return missing is null ? null : (ErrorReason.Missing, missing);
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

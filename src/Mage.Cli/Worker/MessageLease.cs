using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Worker;

/// <summary>
/// Keeps one received queue message hidden while <see cref="QueueWorker"/> runs it: every
/// <c>duration / </c><see cref="WorkerDefaults.RenewalsPerLease"/> it sets the message's visibility
/// to <c>duration</c> from now (Update Message) and keeps the pop receipt each renewal returns,
/// which the final delete or release must use (<see cref="PopReceipt"/>). If the worker dies the
/// renewals stop and the message is visible again within one lease.
/// </summary>
/// <remarks>
/// A renewal that gets no answer is tried again at the next tick. One that storage refuses (404:
/// the message is gone; 400: the pop receipt no longer matches because the lease lapsed and another
/// worker received it) makes the lease <see cref="Lost"/>: renewals stop, and the caller must not
/// delete or release with its stale receipt (the other worker owns the message; the services are
/// idempotent, so finishing the work here is harmless). One instance per message; the renewal loop
/// and the caller share it, <see cref="PopReceipt"/> and <see cref="Lost"/> are safe to read
/// from either, and <see cref="StopAsync"/> is called once.
/// </remarks>
internal sealed partial class MessageLease
{
    private readonly QueueClient queue;
    private readonly string label;
    private readonly string messageId;
    private readonly TimeSpan duration;
    private readonly StorageOutage outage;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewing;
    private volatile string popReceipt;
    private volatile bool lost;

    private MessageLease(QueueClient queue, string label, QueueMessage message, TimeSpan duration, StorageOutage outage, ILogger logger)
    {
        this.queue = queue;
        this.label = label;
        messageId = message.MessageId;
        popReceipt = message.PopReceipt;
        this.duration = duration;
        this.outage = outage;
        this.logger = logger;
        renewing = RenewAsync();
    }

    /// <summary>The pop receipt of the latest successful renewal (at first, the receive's).</summary>
    public string PopReceipt => popReceipt;

    /// <summary>True once storage refused a renewal: the message is no longer this worker's to delete or release.</summary>
    public bool Lost => lost;

    /// <summary>
    /// Starts renewing <paramref name="message"/>, received with a visibility timeout of
    /// <paramref name="duration"/>, in the background.
    /// </summary>
    public static MessageLease Start(QueueClient queue, string label, QueueMessage message, TimeSpan duration, StorageOutage outage, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.FromSeconds(WorkerDefaults.MinLeaseSeconds));
        return new MessageLease(queue, label, message, duration, outage, logger);
    }

    /// <summary>
    /// Stops renewing. A renewal already sent is awaited, not cancelled, so that
    /// <see cref="PopReceipt"/> is the one storage holds when this returns. Never throws.
    /// </summary>
    public async Task StopAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await renewing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }

    private async Task RenewAsync()
    {
        var interval = duration / WorkerDefaults.RenewalsPerLease;
        while (true)
        {
            await Task.Delay(interval, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                // Not cancelled by StopAsync: storage may apply an update whose answer never arrives, and its new receipt would be lost.
                var receipt = await queue.UpdateMessageAsync(messageId, popReceipt, visibilityTimeout: duration, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                popReceipt = receipt.Value.PopReceipt;
                outage.Answered();
            }
            catch (Exception e) when (StorageFailures.IsUnavailable(e))
            {
                // One failed renewal leaves a third of the lease for the next tick to try again.
                outage.Failed(e);
            }
            catch (Exception e) when (StorageFailures.IsStorageFailure(e))
            {
                lost = true;
                LogLost(logger, label, messageId, StorageFailures.Describe(e));
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Label} message {MessageId}: lease lost ({Reason}); another worker may be running it, so this one finishes without deleting it")]
    private static partial void LogLost(ILogger logger, string label, string messageId, string reason);
}

using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.Events;

/// <summary>
/// Sends events to a storage queue as structured CloudEvents JSON; used when no Service Bus
/// namespace is configured (local development, small deployments). Storage queues have no
/// duplicate detection: consumers dedupe on the event id.
/// </summary>
/// <remarks>Thread-safe (QueueClient is).</remarks>
internal sealed partial class QueueEventPublisher(QueueClient queue, ILogger<QueueEventPublisher> logger) : IEventPublisher
{
    private int created;

    /// <inheritdoc />
    public async Task PublishAsync(MageEvent mageEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mageEvent);
        if (Volatile.Read(ref created) == 0)
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref created, 1);
        }

        await queue.SendMessageAsync(BinaryData.FromBytes(mageEvent.ToJsonBytes()), cancellationToken: cancellationToken).ConfigureAwait(false);
        LogPublished(logger, mageEvent.Type, mageEvent.Subject, mageEvent.Id);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Type} for {Subject} to the events queue (id {EventId})")]
    private static partial void LogPublished(ILogger logger, string type, string subject, string eventId);
}

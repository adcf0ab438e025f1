using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging;

namespace Mage.Jobs.Events;

/// <summary>
/// Sends events to a Service Bus topic as structured CloudEvents. The message id is the event id,
/// so with duplicate detection on the topic a republished completion is dropped; the message
/// subject is the event type, so subscriptions can filter on it without reading the body.
/// </summary>
/// <remarks>Thread-safe (ServiceBusSender is). Does not own the sender; the DI container disposes it.</remarks>
internal sealed partial class ServiceBusEventPublisher(ServiceBusSender sender, ILogger<ServiceBusEventPublisher> logger) : IEventPublisher
{
    /// <inheritdoc />
    public async Task PublishAsync(MageEvent mageEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mageEvent);
        var message = ToMessage(mageEvent);
        await sender.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
        LogPublished(logger, mageEvent.Type, mageEvent.Subject, mageEvent.Id);
    }

    /// <summary>The Service Bus message for an event.</summary>
    public static ServiceBusMessage ToMessage(MageEvent mageEvent)
    {
        ArgumentNullException.ThrowIfNull(mageEvent);
        var message = new ServiceBusMessage(mageEvent.ToJsonBytes())
        {
            MessageId = mageEvent.Id,
            Subject = mageEvent.Type,
            ContentType = MageEvent.StructuredContentType,
        };
        message.ApplicationProperties["cloudEvents_type"] = mageEvent.Type;
        message.ApplicationProperties["cloudEvents_subject"] = mageEvent.Subject;
        message.ApplicationProperties["status"] = mageEvent.Data.Status;
        return message;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Type} for {Subject} to Service Bus (message id {MessageId})")]
    private static partial void LogPublished(ILogger logger, string type, string subject, string messageId);
}

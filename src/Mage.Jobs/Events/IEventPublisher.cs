namespace Mage.Jobs.Events;

/// <summary>Publishes completion and failure events. Implementations are thread-safe singletons.</summary>
public interface IEventPublisher
{
    /// <summary>Sends one event; throws on a transient failure so the caller's message is retried.</summary>
    Task PublishAsync(MageEvent mageEvent, CancellationToken cancellationToken = default);
}

using Mage.Jobs.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Mage.Functions.Tests.Infrastructure;

/// <summary>
/// Wraps the app's real <see cref="IEventPublisher"/> and, once armed, fails the next publish as
/// a worker dying after its commit would: nothing is sent. Every event that does go out is
/// counted, so a test can tell how often each event id was published.
/// </summary>
public sealed class CrashingEventPublisher(IEventPublisher inner) : IEventPublisher
{
    private int armed;

    /// <summary>Makes the next <see cref="PublishAsync"/> throw without publishing.</summary>
    public void CrashOnNextPublish() => Volatile.Write(ref armed, 1);

    /// <inheritdoc />
    public Task PublishAsync(MageEvent mageEvent, CancellationToken cancellationToken = default) =>
        Interlocked.Exchange(ref armed, 0) == 1
            ? throw new InvalidOperationException($"Simulated crash before publishing {mageEvent.Type} {mageEvent.Id}.")
            : inner.PublishAsync(mageEvent, cancellationToken);

    /// <summary>Replaces the publisher registered by <c>AddMage</c> with one wrapped in a <see cref="CrashingEventPublisher"/>.</summary>
    public static void Install(IServiceCollection services) =>
        ServiceDecoration.Decorate<IEventPublisher, CrashingEventPublisher>(services, inner => new CrashingEventPublisher(inner));
}

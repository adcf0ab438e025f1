using Mage.Jobs.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>
/// Wraps the app's real <see cref="IEventPublisher"/> and, once armed, fails the next publish as
/// a worker dying after its commit would (nothing is sent), or holds it as a slow worker would
/// until the test lets it go.
/// </summary>
public sealed class CrashingEventPublisher(IEventPublisher inner) : IEventPublisher
{
    private int armed;
    private TaskCompletionSource? held;
    private TaskCompletionSource? release;

    /// <summary>Makes the next <see cref="PublishAsync"/> throw without publishing.</summary>
    public void CrashOnNextPublish() => Volatile.Write(ref armed, 1);

    /// <summary>
    /// Makes the next <see cref="PublishAsync"/> wait, before publishing, until the returned
    /// release is completed; the first task completes once that publish has started waiting.
    /// </summary>
    public (Task Held, TaskCompletionSource Release) HoldNextPublish()
    {
        var (started, go) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        (held, release) = (started, go);
        return (started.Task, go);
    }

    /// <inheritdoc />
    public async Task PublishAsync(MageEvent mageEvent, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref armed, 0) == 1)
        {
            throw new InvalidOperationException($"Simulated crash before publishing {mageEvent.Type} {mageEvent.Id}.");
        }

        if (Interlocked.Exchange(ref held, null) is { } started)
        {
            started.SetResult();
            await release!.Task.WaitAsync(cancellationToken);
        }

        await inner.PublishAsync(mageEvent, cancellationToken);
    }

    /// <summary>Replaces the publisher registered by <c>AddMage</c> with one wrapped in a <see cref="CrashingEventPublisher"/>.</summary>
    public static void Install(IServiceCollection services) =>
        ServiceDecoration.Decorate<IEventPublisher, CrashingEventPublisher>(services, inner => new CrashingEventPublisher(inner));
}

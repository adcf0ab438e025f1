using Mage.Inference.Engine;
using Mage.Jobs.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>
/// Wraps the app's real <see cref="IMageEngineSource"/> and counts how often a service asked for
/// the engine: the services ask once per computation (an edit, a generation, a shard, an upload).
/// </summary>
public sealed class CountingEngineSource(IMageEngineSource inner) : IMageEngineSource
{
    private int computations;

    /// <summary>How many computations started.</summary>
    public int Computations => Volatile.Read(ref computations);

    /// <inheritdoc />
    public Task<MageEngine> GetEngineAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref computations);
        return inner.GetEngineAsync(cancellationToken);
    }

    /// <summary>Replaces the engine source registered by <c>AddMage</c> with one wrapped in a <see cref="CountingEngineSource"/>.</summary>
    public static void Install(IServiceCollection services) =>
        ServiceDecoration.Decorate<IMageEngineSource, CountingEngineSource>(services, inner => new CountingEngineSource(inner));
}

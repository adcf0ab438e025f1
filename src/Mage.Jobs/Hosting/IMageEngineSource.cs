using Mage.Inference.Engine;

namespace Mage.Jobs.Hosting;

/// <summary>Hands out the shared engine once the model has loaded.</summary>
public interface IMageEngineSource
{
    /// <summary>The engine; waits for the start-up load and rethrows its failure.</summary>
    Task<MageEngine> GetEngineAsync(CancellationToken cancellationToken = default);
}

using Mage.Inference.Engine;

namespace Mage.Jobs.Hosting;

/// <summary>An engine that is already there (tests, tools).</summary>
/// <remarks>Does not own the engine.</remarks>
public sealed class FixedEngineSource(MageEngine engine) : IMageEngineSource
{
    /// <inheritdoc />
    public Task<MageEngine> GetEngineAsync(CancellationToken cancellationToken = default) => Task.FromResult(engine);
}

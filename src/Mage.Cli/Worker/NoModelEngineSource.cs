using Mage.Inference.Engine;
using Mage.Jobs.Hosting;

namespace Mage.Cli.Worker;

/// <summary>
/// The engine source of a <see cref="JobsHost"/> that loaded no model (<c>mage serve</c> without
/// <c>--with-worker</c>): every ask fails at once with how to get one. Stateless and thread-safe.
/// </summary>
internal sealed class NoModelEngineSource : IMageEngineSource
{
    public Task<MageEngine> GetEngineAsync(CancellationToken cancellationToken = default) =>
        Task.FromException<MageEngine>(new ModelUnavailableException(
            "This server has loaded no model, so it cannot embed images; start it with 'mage serve --with-worker' (or use the Functions app)."));
}

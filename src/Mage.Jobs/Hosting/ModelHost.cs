using Mage.Inference.Engine;
using Mage.Inference.Runtime;
using Mage.Jobs.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Loads the model package at host start-up (from a local folder, or downloaded once from the
/// models container) and owns the one <see cref="MageModel"/> and <see cref="MageEngine"/> of the
/// process. A package that fails to load or hash-check fails the start, not the first message.
/// </summary>
/// <remarks>Thread-safe singleton. Disposes the engine (draining queued work) before the model.</remarks>
internal sealed partial class ModelHost(
    IOptions<ModelSettings> modelSettings,
    IOptions<LimitSettings> limits,
    ModelPackageDownloader downloader,
    ILoggerFactory loggerFactory) : IHostedService, IMageEngineSource, IAsyncDisposable
{
    private readonly TaskCompletionSource<MageEngine> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger logger = loggerFactory.CreateLogger<ModelHost>();
    private MageModel? model;
    private MageEngine? engine;

    /// <inheritdoc />
    public Task<MageEngine> GetEngineAsync(CancellationToken cancellationToken = default) => ready.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var settings = modelSettings.Value;
            var folder = string.IsNullOrWhiteSpace(settings.PackagePath)
                ? await downloader.DownloadAsync(settings.BlobPrefix!, settings.CacheFolder, cancellationToken).ConfigureAwait(false)
                : settings.PackagePath;
            model = MageModel.Load(settings.ToModelOptions(folder), loggerFactory.CreateLogger<MageModel>());
            engine = new MageEngine(model, CreateEngineOptions(limits.Value) with { Loop = settings.DecodeLoop }, loggerFactory.CreateLogger<MageEngine>());
            LogLoaded(logger, model.Package.Manifest.Arch, model.Package.ContentHash, model.Device.Description);
            ready.TrySetResult(engine);
        }
        catch (Exception e)
        {
            ready.TrySetException(e);
            throw;
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Engine options from the configured limits.</summary>
    public static MageEngineOptions CreateEngineOptions(LimitSettings limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new MageEngineOptions { Limits = limits.ToImageLimits() };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        ready.TrySetCanceled();
        if (engine is not null)
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }

        model?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Arch} (package {PackageHash}) ready on {Device}")]
    private static partial void LogLoaded(ILogger logger, string arch, string packageHash, string device);
}

using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Inference.Engine;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Cli.Worker;

/// <summary>
/// The Functions app's own service registration (<see cref="MageServiceExtensions.AddMage"/>)
/// on a generic host that is built but never started: the CLI resolves the job services from it
/// and drives them itself. Settings come from the <c>Mage__*</c> environment variables of the
/// Functions contract (docs/operations.md), overridden by the command line. Owns the host.
/// </summary>
internal sealed class JobsHost : IDisposable
{
    private readonly IHost host;

    private JobsHost(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;

    public StorageSettings Storage => Get<IOptions<StorageSettings>>().Value;

    public LimitSettings Limits => Get<IOptions<LimitSettings>>().Value;

    /// <summary>
    /// The <c>Mage:Model</c> settings, bound strictly and validated as the app binds them; with
    /// neither a package path nor a blob prefix configured, the bundled package
    /// (<see cref="LocalModel.BundledPackage"/>), as the other commands use without <c>--model</c>.
    /// </summary>
    public ModelSettings Model => Get<IOptions<ModelSettings>>().Value;

    public BlobServiceClient Blobs => Get<BlobServiceClient>();

    /// <summary>Queue clients that send base64, as the Functions host expects.</summary>
    public QueueServiceClient Queues => Get<QueueServiceClient>();

    /// <summary>
    /// Queue clients for the worker: they leave bodies as they are (no base64), since the worker
    /// decodes itself so that a body that is not base64 is moved to the poison queue instead of
    /// being lost, and they fail fast (<see cref="FailFast"/>).
    /// </summary>
    public QueueServiceClient CreateRawQueues() =>
        StorageClients.CreateQueueServiceClient(
            Get<IConfiguration>().GetSection(StorageSettings.Connection),
            new DefaultAzureCredential(),
            FailFast(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }));

    /// <summary>
    /// Blob clients for the worker's own calls (creating containers, listing uploads) that fail
    /// fast (<see cref="FailFast"/>); the services keep <see cref="Blobs"/> and the SDK's retries.
    /// </summary>
    public BlobServiceClient CreateWorkerBlobs() =>
        StorageClients.CreateBlobServiceClient(
            Get<IConfiguration>().GetSection(StorageSettings.Connection),
            new DefaultAzureCredential(),
            FailFast(new BlobClientOptions()));

    /// <summary>Creates or checks the containers and queues as the Functions app does at start-up (<see cref="MageServiceExtensions.EnsureMageStorageAsync"/>).</summary>
    /// <exception cref="Mage.Jobs.Storage.StorageSetupException">Something is missing, forbidden or unreachable.</exception>
    public Task EnsureStorageAsync(CancellationToken cancellationToken) => host.Services.EnsureMageStorageAsync(cancellationToken);

    public T Get<T>()
        where T : notnull => host.Services.GetRequiredService<T>();

    /// <summary>
    /// Builds the host over the environment's <c>Mage__*</c> settings, overridden by
    /// <paramref name="settings"/> (the command line's, in configuration keys). With
    /// <paramref name="engine"/> the job services run on it (the caller owns it); without, only the
    /// storage-side services (submit, status) are usable.
    /// </summary>
    /// <exception cref="OptionsValidationException">A <c>Mage__*</c> setting is invalid.</exception>
    /// <exception cref="InvalidOperationException">A <c>Mage__*</c> setting is one the services do not have (strict binding).</exception>
    public static JobsHost Create(IReadOnlyDictionary<string, string?> settings, TextWriter log, LogLevel level, MageEngine? engine = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new Console.LineLoggerProvider(log));
        builder.Logging.SetMinimumLevel(level);
        // Azure.Core logs every 404/409/412 as a warning; the services expect those (existence checks, optimistic concurrency).
        builder.Logging.AddFilter("Azure", LogLevel.Error);
        builder.AddMage();
        builder.Services.PostConfigure<ModelSettings>(model =>
        {
            if (string.IsNullOrWhiteSpace(model.PackagePath) && string.IsNullOrWhiteSpace(model.BlobPrefix))
            {
                model.PackagePath = LocalModel.BundledPackage;
            }
        });
        if (engine is not null)
        {
            // The CLI loads the model itself (--model, --device, --batch-size); AddMage's ModelHost never starts.
            builder.Services.AddSingleton<IMageEngineSource>(new FixedEngineSource(engine));
        }
        else
        {
            // The host is never started, so AddMage's ModelHost would make anyone who asks wait forever.
            builder.Services.AddSingleton<IMageEngineSource>(new NoModelEngineSource());
        }

        var jobsHost = new JobsHost(builder.Build());

        // The host is never started, so ValidateOnStart does not run: read the options now so a bad
        // or unknown setting fails here rather than at the first event.
        try
        {
            _ = jobsHost.Storage;
            _ = jobsHost.Limits;
            _ = jobsHost.Get<IOptions<EventSettings>>().Value;
        }
        catch
        {
            jobsHost.Dispose();
            throw;
        }

        return jobsHost;
    }

    /// <summary>
    /// The settings the worker needs before it loads the model: <c>Mage__Limits__*</c> (the engine
    /// decodes under them; <see cref="Create"/> needs the engine) and <c>Mage__Model__*</c>
    /// (<see cref="Model"/>), each bound strictly and validated.
    /// </summary>
    /// <exception cref="OptionsValidationException">A <c>Mage__Limits__*</c> or <c>Mage__Model__*</c> setting is invalid.</exception>
    /// <exception cref="InvalidOperationException">A <c>Mage__*</c> setting is one the services do not have (strict binding).</exception>
    public static (LimitSettings Limits, ModelSettings Model) ReadWorkerSettings(IReadOnlyDictionary<string, string?> settings)
    {
        using var host = Create(settings, TextWriter.Null, LogLevel.None);
        return (host.Limits, host.Model);
    }

    public void Dispose() => host.Dispose();

    /// <summary>
    /// Gives up after 3 tries (the SDK default of 6 takes about 25 s against a stopped account) and
    /// 30 s without an answer: the worker's poll loop has its own outage backoff, so its calls
    /// should fail fast rather than hang.
    /// </summary>
    private static T FailFast<T>(T options)
        where T : ClientOptions
    {
        options.Retry.MaxRetries = 2;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }
}

using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// The app's own service registration (<see cref="MageServiceExtensions.AddMage"/>) against one
/// storage account, with storage clients that count every request (<see cref="RequestTally"/>) and
/// container and queue names unique to this run. Owns the host; dispose once.
/// </summary>
internal sealed class CoordinationHost : IAsyncDisposable
{
    private readonly IHost host;

    private CoordinationHost(IHost host, RequestTally tally)
    {
        this.host = host;
        Tally = tally;
    }

    public RequestTally Tally { get; }

    public StorageSettings Storage => Get<IOptions<StorageSettings>>().Value;

    public BlobServiceClient Blobs => Get<BlobServiceClient>();

    public QueueServiceClient Queues => Get<QueueServiceClient>();

    public T Get<T>()
        where T : notnull => host.Services.GetRequiredService<T>();

    /// <param name="connection">The storage account.</param>
    /// <param name="package">The model package (the services load it; the scenarios never embed).</param>
    /// <param name="sources">The containers jobs may list (Mage:Storage:SourceContainers).</param>
    /// <param name="overrides">Settings of the services to change (e.g. <c>Mage:Limits:ListRanges</c>), or null.</param>
    /// <param name="cancellationToken">Stops start-up.</param>
    public static async Task<CoordinationHost> StartAsync(string connection, string package, IEnumerable<string> sources, IReadOnlyDictionary<string, string?>? overrides, CancellationToken cancellationToken)
    {
        var tag = "c" + Guid.NewGuid().ToString("N")[..10];
        var settings = new Dictionary<string, string?>
        {
            [StorageSettings.Connection] = connection,
            ["Mage:Model:PackagePath"] = package,
            ["Mage:Model:Device"] = "cpu",
            ["Mage:Model:IntraOpThreads"] = "1",
            ["Mage:Storage:UploadsContainer"] = $"{tag}-uploads",
            ["Mage:Storage:SourceContainers"] = string.Join(',', sources),
            ["Mage:Storage:ResultsContainer"] = $"{tag}-results",
            ["Mage:Storage:JobsContainer"] = $"{tag}-jobs",
            ["Mage:Storage:ModelsContainer"] = $"{tag}-models",
            ["Mage:Storage:JobsQueue"] = $"{tag}-jobs",
            ["Mage:Storage:ShardsQueue"] = $"{tag}-shards",
            ["Mage:Storage:EditsQueue"] = $"{tag}-edits",
            ["Mage:Storage:GenerateQueue"] = $"{tag}-generate",
            ["Mage:Storage:EventsQueue"] = $"{tag}-events",
        };

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var tally = new RequestTally();
        var blobOptions = new BlobClientOptions();
        blobOptions.AddPolicy(tally, HttpPipelinePosition.PerRetry);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.AddPolicy(tally, HttpPipelinePosition.PerRetry);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddMage();

        // Registered after AddMage, so these (counting) clients are the ones every service gets.
        builder.Services.AddSingleton(new BlobServiceClient(connection, blobOptions));
        builder.Services.AddSingleton(new QueueServiceClient(connection, queueOptions));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new CoordinationHost(host, tally);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync().ConfigureAwait(false);
        host.Dispose();
    }
}

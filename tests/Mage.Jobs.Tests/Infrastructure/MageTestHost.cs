using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>
/// The app's real service registration (<see cref="MageServiceExtensions.AddMage"/>) on a plain
/// generic host, against Azurite and the tiny model, with container and queue names unique to
/// one test class.
/// </summary>
public sealed class MageTestHost : IAsyncDisposable
{
    private readonly IHost host;

    private MageTestHost(IHost host, StorageSettings storage)
    {
        this.host = host;
        Storage = storage;
    }

    public StorageSettings Storage { get; }

    public IServiceProvider Services => host.Services;

    public BlobServiceClient Blobs => Services.GetRequiredService<BlobServiceClient>();

    public QueueServiceClient Queues => Services.GetRequiredService<QueueServiceClient>();

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);

    /// <param name="azurite">The storage emulator.</param>
    /// <param name="overrides">Settings that replace the defaults; <c>{uploads}</c> and <c>{results}</c> in a value name this host's containers.</param>
    /// <param name="services">Changes to the app's service registration, applied after <c>AddMage</c>.</param>
    public static async Task<MageTestHost> StartAsync(AzuriteFixture azurite, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>(UniqueStorageNames())
        {
            ["MageStorage"] = azurite.ConnectionString,
            ["Mage:Model:PackagePath"] = Fixtures.TinyPackage,
            ["Mage:Model:Device"] = "cpu",
            ["Mage:Model:IntraOpThreads"] = "1",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            // "{uploads}" and "{results}" in an allow-list stand for this host's own containers.
            settings[key] = value?
                .Replace("{uploads}", settings["Mage:Storage:UploadsContainer"], StringComparison.Ordinal)
                .Replace("{results}", settings["Mage:Storage:ResultsContainer"], StringComparison.Ordinal);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddMage();
        services?.Invoke(builder.Services);
        var host = builder.Build();
        try
        {
            // The app's StorageBootstrap creates the containers and queues; only the models container is left to the test.
            await host.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new MageTestHost(host, host.Services.GetRequiredService<IOptions<StorageSettings>>().Value);
    }

    /// <summary>Every <c>Mage:Storage</c> container and queue name, with a prefix unique to this call.</summary>
    public static Dictionary<string, string?> UniqueStorageNames()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..10];
        return new Dictionary<string, string?>
        {
            ["Mage:Storage:UploadsContainer"] = $"{tag}-uploads",
            ["Mage:Storage:ResultsContainer"] = $"{tag}-results",
            ["Mage:Storage:JobsContainer"] = $"{tag}-jobs",
            ["Mage:Storage:ModelsContainer"] = $"{tag}-models",
            ["Mage:Storage:JobsQueue"] = $"{tag}-jobs",
            ["Mage:Storage:ShardsQueue"] = $"{tag}-shards",
            ["Mage:Storage:EditsQueue"] = $"{tag}-edits",
            ["Mage:Storage:GenerateQueue"] = $"{tag}-generate",
            ["Mage:Storage:EventsQueue"] = $"{tag}-events",
        };
    }

    /// <summary>Receives every message now in a queue (and deletes them).</summary>
    public async Task<List<string>> DrainAsync(string queue)
    {
        var client = Queues.GetQueueClient(queue);
        var result = new List<string>();
        while (true)
        {
            QueueMessage[] batch = await client.ReceiveMessagesAsync(32).ConfigureAwait(false);
            if (batch.Length == 0)
            {
                return result;
            }

            foreach (var m in batch)
            {
                result.Add(m.Body.ToString());
                await client.DeleteMessageAsync(m.MessageId, m.PopReceipt).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Submits a job of <paramref name="blobs"/> (in the uploads container) as a single shard, checks
    /// that it is running, and takes its one shard message off the shards queue.
    /// </summary>
    public async Task<(string Job, string Shard)> SubmitOneShardJobAsync(string jobId, params string[] blobs)
    {
        var job = JsonSerializer.Serialize(new { jobId, source = new { container = Storage.UploadsContainer, blobs }, shardSize = blobs.Length });
        Assert.Equal(JobState.Running, (await Get<SubmitJobService>().SubmitAsync(job).ConfigureAwait(false))?.State);
        return (job, Assert.Single(await DrainAsync(Storage.ShardsQueue).ConfigureAwait(false)));
    }

    /// <summary>Names of the blobs under a prefix.</summary>
    public async Task<List<string>> ListAsync(string container, string prefix = "")
    {
        var names = new List<string>();
        await foreach (var item in Container(container).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default).ConfigureAwait(false))
        {
            names.Add(item.Name);
        }

        return names;
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync().ConfigureAwait(false);
        host.Dispose();
    }

    /// <summary>A small PNG of random pixels.</summary>
    public static byte[] RandomPng(int seed, int width = 32, int height = 32)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (ref var p in rows.GetRowSpan(y))
                {
                    p = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}

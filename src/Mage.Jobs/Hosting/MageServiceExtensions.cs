using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Uploads;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Hosting;

/// <summary>Registers everything the Mage functions need.</summary>
public static class MageServiceExtensions
{
    /// <summary>
    /// Options (validated at start-up), Azure clients, the storage bootstrap (creates or checks the
    /// containers and queues at start-up), the model host (loads the model at start-up), the event
    /// publisher and the job services.
    /// </summary>
    public static IHostApplicationBuilder AddMage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;

        // A key the settings do not have (a typo, or a setting that was removed, such as
        // Mage:Model:AllowTf32) fails the start instead of being ignored.
        static void Strict(BinderOptions binder) => binder.ErrorOnUnknownConfiguration = true;
        services.AddOptions<ModelSettings>().BindConfiguration(ModelSettings.Section, Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageSettings>().BindConfiguration(StorageSettings.Section, Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventSettings>().BindConfiguration(EventSettings.Section, Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitSettings>().BindConfiguration(LimitSettings.Section, Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiSettings>().BindConfiguration(ApiSettings.Section, Strict).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddTimeProvider();

        var storageSection = configuration.GetSection(StorageSettings.Connection);
        var serviceBusNamespace = configuration[$"{EventSettings.Section}:ServiceBusNamespace"];
        services.AddAzureClients(clients =>
        {
            clients.UseCredential(new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = storageSection["clientId"],
            }));
            clients.AddClient<BlobServiceClient, BlobClientOptions>((options, credential) =>
                StorageClients.CreateBlobServiceClient(storageSection, credential, options));
            clients.AddClient<QueueServiceClient, QueueClientOptions>((options, credential) =>
                    StorageClients.CreateQueueServiceClient(storageSection, credential, options))
                // The queue trigger reads base64 (host.json messageEncoding), so everything we enqueue is base64 too.
                .ConfigureOptions(options => options.MessageEncoding = QueueMessageEncoding.Base64);
            if (!string.IsNullOrWhiteSpace(serviceBusNamespace))
            {
                clients.AddServiceBusClientWithNamespace(serviceBusNamespace);
            }
        });

        if (!string.IsNullOrWhiteSpace(serviceBusNamespace))
        {
            services.AddSingleton(sp => sp.GetRequiredService<ServiceBusClient>().CreateSender(sp.GetRequiredService<IOptions<EventSettings>>().Value.Topic));
            services.AddSingleton<IEventPublisher, ServiceBusEventPublisher>();
        }
        else
        {
            services.AddSingleton<IEventPublisher>(sp => new QueueEventPublisher(
                sp.GetRequiredService<QueueServiceClient>().GetQueueClient(sp.GetRequiredService<IOptions<StorageSettings>>().Value.EventsQueue),
                sp.GetRequiredService<ILogger<QueueEventPublisher>>()));
        }

        // Hosted services start in registration order: storage is checked before the model loads.
        services.AddHostedService<StorageBootstrap>();
        services.AddSingleton<ModelPackageDownloader>();
        services.AddSingleton<ModelHost>();
        services.AddSingleton<IMageEngineSource>(sp => sp.GetRequiredService<ModelHost>());
        services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());

        services.AddSingleton<JobStatusStore>();
        services.AddSingleton<UploadEmbeddingService>();
        services.AddSingleton<SubmitJobService>();
        services.AddSingleton<ProcessShardService>();
        services.AddSingleton<JobApiService>();
        services.AddSingleton<Http.RequestApiService>();
        services.AddSingleton<Http.EmbeddingApiService>();
        services.AddSingleton<WorkCommits>();
        services.AddSingleton<RequestLifecycle>();
        services.AddSingleton<EditService>();
        services.AddSingleton<GenerateService>();
        services.AddSingleton<WorkDispatcher>();
        return builder;
    }

    /// <summary>
    /// Runs <see cref="AddMage"/>'s start-up storage check (<see cref="StorageBootstrap"/>: create the
    /// containers and queues, or only check them when <see cref="StorageSettings.CreateMissing"/> is
    /// off) on a host that is built but never started, such as <c>mage serve</c>'s, before it
    /// answers its first request.
    /// </summary>
    /// <param name="services">A provider built over <see cref="AddMage"/>.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <exception cref="Storage.StorageSetupException">Something is missing, forbidden or unreachable (named in the message).</exception>
    public static Task EnsureMageStorageAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        return ActivatorUtilities.CreateInstance<StorageBootstrap>(services).StartAsync(cancellationToken);
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}

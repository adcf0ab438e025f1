using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Makes sure, at host start-up and before the model loads, that the storage the app uses is
/// there: creates the uploads, results and jobs containers and every queue of
/// <see cref="StorageSettings.AllQueueNames"/> when missing (or, with
/// <see cref="StorageSettings.CreateMissing"/> off, only checks them), and checks the models
/// container when the package comes from it. Anything missing, forbidden or unreachable stops
/// start-up with one <see cref="StorageSetupException"/> naming it, within <see cref="Timeout"/>.
/// </summary>
/// <remarks>
/// Runs once. The <c>-poison</c> queues are not created: the Functions host (and <c>mage worker</c>)
/// create them when they first move a message there.
/// </remarks>
internal sealed partial class StorageBootstrap(
    BlobServiceClient blobs,
    QueueServiceClient queues,
    IOptions<StorageSettings> storage,
    IOptions<ModelSettings> model,
    ILogger<StorageBootstrap> logger) : IHostedService
{
    /// <summary>
    /// The most start-up waits for storage. The SDK retries a refused connection for about 6 s,
    /// but waits 100 s per try on an address that never answers; this bounds the whole check.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = storage.Value;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var created = new List<string>();
        foreach (var name in new[] { settings.UploadsContainer, settings.ResultsContainer, settings.JobsContainer })
        {
            var container = blobs.GetBlobContainerClient(name);
            if (await EnsureAsync(StorageResource.Of(container), settings.CreateMissing, container.ExistsAsync, CreateAsync(container), cancellationToken, deadline.Token).ConfigureAwait(false))
            {
                created.Add(name);
            }
        }

        if (!string.IsNullOrWhiteSpace(model.Value.BlobPrefix))
        {
            // Never created: an empty models container would only move the failure to the download.
            var models = blobs.GetBlobContainerClient(settings.ModelsContainer);
            var resource = StorageResource.Of(models);
            if (!await CheckAsync(resource, models.ExistsAsync, cancellationToken, deadline.Token).ConfigureAwait(false))
            {
                throw new StorageSetupException(
                    $"{resource.Description} does not exist; Mage:Model:BlobPrefix '{model.Value.BlobPrefix}' needs the model package there. " +
                    "Create the container and upload the package, or set Mage__Model__PackagePath instead.");
            }
        }

        foreach (var name in settings.AllQueueNames())
        {
            var queue = queues.GetQueueClient(name);
            if (await EnsureAsync(StorageResource.Of(queue), settings.CreateMissing, queue.ExistsAsync, CreateAsync(queue), cancellationToken, deadline.Token).ConfigureAwait(false))
            {
                created.Add(name);
            }
        }

        if (created.Count > 0)
        {
            LogCreated(logger, string.Join(", ", created), blobs.AccountName);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Func<CancellationToken, Task<bool>> CreateAsync(BlobContainerClient container) =>
        async ct => await container.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false) is not null;

    private static Func<CancellationToken, Task<bool>> CreateAsync(QueueClient queue) =>
        async ct => await queue.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false) is not null;

    /// <summary>Creates the resource if allowed, else checks it. Returns whether this call created it.</summary>
    private static async Task<bool> EnsureAsync(
        StorageResource resource,
        bool createMissing,
        Func<CancellationToken, Task<Azure.Response<bool>>> exists,
        Func<CancellationToken, Task<bool>> create,
        CancellationToken stopping,
        CancellationToken deadline)
    {
        if (createMissing)
        {
            return await CallAsync(resource, creating: true, create, stopping, deadline).ConfigureAwait(false);
        }

        return await CheckAsync(resource, exists, stopping, deadline).ConfigureAwait(false)
            ? false
            : throw new StorageSetupException(StorageErrors.Missing(resource));
    }

    private static Task<bool> CheckAsync(
        StorageResource resource, Func<CancellationToken, Task<Azure.Response<bool>>> exists, CancellationToken stopping, CancellationToken deadline) =>
        CallAsync(resource, creating: false, async ct => (await exists(ct).ConfigureAwait(false)).Value, stopping, deadline);

    /// <summary>One storage call under the start-up deadline; any failure becomes the one start-up exception.</summary>
    private static async Task<bool> CallAsync(
        StorageResource resource, bool creating, Func<CancellationToken, Task<bool>> call, CancellationToken stopping, CancellationToken deadline)
    {
        try
        {
            return await call(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!stopping.IsCancellationRequested)
        {
            throw new StorageSetupException(StorageErrors.TimedOut(resource, Timeout), e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw new StorageSetupException(StorageErrors.Explain(resource, e, creating), e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the missing storage {Names} in account {Account}")]
    private static partial void LogCreated(ILogger logger, string names, string account);
}

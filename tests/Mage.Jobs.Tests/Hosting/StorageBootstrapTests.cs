using System.Diagnostics;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Sas;
using Mage.Jobs.Hosting;
using Mage.Jobs.Storage;
using Mage.Jobs.Tests.Infrastructure;

namespace Mage.Jobs.Tests.Hosting;

/// <summary>Start-up against storage where the app's containers and queues are missing, forbidden or unreachable.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StorageBootstrapTests(AzuriteFixture azurite)
{
    private const string CreateMissing = "Mage:Storage:CreateMissing";

    [Fact]
    public async Task Start_creates_every_container_and_queue_except_models()
    {
        var names = MageTestHost.UniqueStorageNames();
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var queues = new QueueServiceClient(azurite.ConnectionString);
        Assert.False(await blobs.GetBlobContainerClient(names["Mage:Storage:JobsContainer"]).ExistsAsync());

        await using var host = await MageTestHost.StartAsync(azurite, names);

        foreach (var container in new[] { host.Storage.UploadsContainer, host.Storage.ResultsContainer, host.Storage.JobsContainer })
        {
            Assert.True(await blobs.GetBlobContainerClient(container).ExistsAsync(), container);
        }

        Assert.Equal(5, host.Storage.AllQueueNames().Count());
        foreach (var queue in host.Storage.AllQueueNames())
        {
            Assert.True(await queues.GetQueueClient(queue).ExistsAsync(), queue);
        }

        Assert.False(await blobs.GetBlobContainerClient(host.Storage.ModelsContainer).ExistsAsync());
    }

    [Fact]
    public async Task Without_CreateMissing_a_missing_queue_stops_start_naming_it()
    {
        var names = MageTestHost.UniqueStorageNames();
        await (await MageTestHost.StartAsync(azurite, names)).DisposeAsync(); // creates everything
        var shards = new QueueServiceClient(azurite.ConnectionString).GetQueueClient(names["Mage:Storage:ShardsQueue"]);
        await shards.DeleteAsync();
        names[CreateMissing] = "false";

        var e = await Assert.ThrowsAsync<StorageSetupException>(() => MageTestHost.StartAsync(azurite, names));

        Assert.Contains($"queue '{shards.Name}' in storage account 'devstoreaccount1' does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("Mage__Storage__CreateMissing", e.Message, StringComparison.Ordinal);
        Assert.False(await shards.ExistsAsync());

        // With the queue back, the same settings start.
        await shards.CreateAsync();
        await (await MageTestHost.StartAsync(azurite, names)).DisposeAsync();
    }

    [Fact]
    public async Task A_package_prefix_without_a_models_container_stops_start_naming_it()
    {
        var names = MageTestHost.UniqueStorageNames();
        names["Mage:Model:PackagePath"] = null;
        names["Mage:Model:BlobPrefix"] = "mage-tiny/v1";

        var e = await Assert.ThrowsAsync<StorageSetupException>(() => MageTestHost.StartAsync(azurite, names));

        Assert.Contains($"container '{names["Mage:Storage:ModelsContainer"]}' in storage account 'devstoreaccount1' does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("'mage-tiny/v1'", e.Message, StringComparison.Ordinal);
        Assert.False(await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(names["Mage:Storage:ModelsContainer"]).ExistsAsync());
    }

    [Fact]
    public async Task Unreachable_storage_stops_start_quickly_naming_the_account()
    {
        var port = AzuriteFixture.FreePort();
        var names = MageTestHost.UniqueStorageNames();
        names["MageStorage"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AzuriteFixture.AccountKey +
                               $";BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        var timer = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<StorageSetupException>(() => MageTestHost.StartAsync(azurite, names));

        Assert.Contains($"cannot reach storage account 'devstoreaccount1' at http://127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"container '{names["Mage:Storage:UploadsContainer"]}'", e.Message, StringComparison.Ordinal);
        Assert.True(timer.Elapsed < StorageBootstrap.Timeout + TimeSpan.FromSeconds(5), $"took {timer.Elapsed}");
    }

    [Fact]
    public async Task An_identity_without_create_rights_stops_start_naming_the_role()
    {
        // An account SAS that may read and list but not create stands in for a managed identity without a data role.
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var queues = new QueueServiceClient(azurite.ConnectionString);
        var sas = new AccountSasBuilder(AccountSasPermissions.Read | AccountSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1), AccountSasServices.Blobs | AccountSasServices.Queues, AccountSasResourceTypes.All)
            .ToSasQueryParameters(new StorageSharedKeyCredential("devstoreaccount1", AzuriteFixture.AccountKey));
        var names = MageTestHost.UniqueStorageNames();
        names["MageStorage"] = $"BlobEndpoint={blobs.Uri};QueueEndpoint={queues.Uri};SharedAccessSignature={sas}";

        var e = await Assert.ThrowsAsync<StorageSetupException>(() => MageTestHost.StartAsync(azurite, names));

        Assert.Contains($"cannot create container '{names["Mage:Storage:UploadsContainer"]}' in storage account 'devstoreaccount1' (403", e.Message, StringComparison.Ordinal);
        Assert.Contains("Storage Blob Data Contributor", e.Message, StringComparison.Ordinal);
    }
}

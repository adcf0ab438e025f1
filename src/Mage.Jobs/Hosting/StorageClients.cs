using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Builds storage clients from the <c>MageStorage</c> connection the triggers use, in either of
/// the Functions host's two forms: a connection string as the section's value (Azurite), or an
/// identity-based section with <c>blobServiceUri</c> / <c>queueServiceUri</c> (or
/// <c>accountName</c>), <c>credential=managedidentity</c> and <c>clientId</c> (Azure).
/// </summary>
public static class StorageClients
{
    public static BlobServiceClient CreateBlobServiceClient(IConfigurationSection section, TokenCredential fallback, BlobClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        return !string.IsNullOrWhiteSpace(section.Value)
            ? new BlobServiceClient(section.Value, options)
            : new BlobServiceClient(ServiceUri(section, "blob"), Credential(section, fallback), options);
    }

    public static QueueServiceClient CreateQueueServiceClient(IConfigurationSection section, TokenCredential fallback, QueueClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        return !string.IsNullOrWhiteSpace(section.Value)
            ? new QueueServiceClient(section.Value, options)
            : new QueueServiceClient(ServiceUri(section, "queue"), Credential(section, fallback), options);
    }

    private static Uri ServiceUri(IConfigurationSection section, string service)
    {
        var uri = section[$"{service}ServiceUri"] ?? section["serviceUri"];
        if (!string.IsNullOrWhiteSpace(uri))
        {
            return new Uri(uri);
        }

        var account = section["accountName"];
        return !string.IsNullOrWhiteSpace(account)
            ? new Uri($"https://{account}.{service}.core.windows.net")
            : throw new InvalidOperationException(
                $"Storage connection '{section.Path}' has neither a connection string nor {section.Path}__{service}ServiceUri (or __accountName).");
    }

    private static TokenCredential Credential(IConfigurationSection section, TokenCredential fallback)
    {
        if (!string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return fallback;
        }

        var clientId = section["clientId"];
        return new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId)
            ? ManagedIdentityId.SystemAssigned
            : ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}

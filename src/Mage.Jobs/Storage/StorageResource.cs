using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Mage.Jobs.Storage;

/// <summary>A blob container or queue as messages name it: its kind, name, account and endpoint.</summary>
/// <param name="IsQueue">A queue; otherwise a blob container.</param>
/// <param name="Name">The container or queue name.</param>
/// <param name="Account">The storage account name.</param>
/// <param name="Uri">The container's or queue's URI (the account endpoint plus the name).</param>
internal sealed record StorageResource(bool IsQueue, string Name, string Account, Uri Uri)
{
    public string Kind => IsQueue ? "queue" : "container";

    /// <summary>The built-in role that can create it (and read and write its contents).</summary>
    public string ContributorRole => IsQueue ? "Storage Queue Data Contributor" : "Storage Blob Data Contributor";

    /// <summary>The built-in role that can check that it exists.</summary>
    public string ReaderRole => IsQueue ? "Storage Queue Data Reader" : "Storage Blob Data Reader";

    /// <summary><c>container 'jobs' in storage account 'acct'</c>.</summary>
    public string Description => $"{Kind} '{Name}' in storage account '{Account}'";

    public static StorageResource Of(BlobContainerClient container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return new(false, container.Name, container.AccountName, container.Uri);
    }

    public static StorageResource Of(QueueClient queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return new(true, queue.Name, queue.AccountName, queue.Uri);
    }
}

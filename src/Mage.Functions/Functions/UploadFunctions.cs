using Azure.Storage.Blobs;
using Mage.Jobs.Uploads;
using Microsoft.Azure.Functions.Worker;

namespace Mage.Functions.Functions;

/// <summary>Uploads: one blob version in, tokens and an embedding out.</summary>
public sealed class UploadFunctions(UploadEmbeddingService service)
{
    /// <summary>Triggered through Event Grid (subscription target <c>Host.Functions.EmbedUpload</c>).</summary>
    [Function("EmbedUpload")]
    public Task EmbedUpload(
        [BlobTrigger("%Mage:Storage:UploadsContainer%/{name}", Source = BlobTriggerSource.EventGrid, Connection = "MageStorage")] BlobClient blob,
        CancellationToken cancellationToken) =>
        service.ProcessAsync(blob, cancellationToken);
}

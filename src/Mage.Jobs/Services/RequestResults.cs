using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Mage.Jobs.Events;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Services;

/// <summary>
/// Writes the outputs of edit and generation requests: data files first, then result.json (or
/// error.json) with If-None-Match: *, whose existence marks the request done.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class RequestResults(BlobServiceClient blobs, IEventPublisher events, IOptions<StorageSettings> storage, TimeProvider time, ILogger<RequestResults> logger)
{
    /// <summary>The default output container.</summary>
    public string ResultsContainer => storage.Value.ResultsContainer;

    /// <summary>True when the request already has a result or an error.</summary>
    public async Task<bool> IsDoneAsync(RequestTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var container = blobs.GetBlobContainerClient(target.Container);
        return await container.GetBlobClient(target.Folder + "result.json").ExistsAsync(cancellationToken).ConfigureAwait(false)
            || await container.GetBlobClient(target.Folder + "error.json").ExistsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a PNG and returns its container/name path.</summary>
    public async Task<string> WritePngAsync(RequestTarget target, string fileName, Image<Rgb24> image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        await image.SaveAsPngAsync(stream, cancellationToken).ConfigureAwait(false);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(target.Folder + fileName);
        await BlobWrites.WriteAsync(blob, BinaryData.FromBytes(stream.ToArray()), "image/png", cancellationToken).ConfigureAwait(false);
        return $"{target.Container}/{blob.Name}";
    }

    /// <summary>Writes token grids as int64 [n, 256] and returns the container/name path.</summary>
    public async Task<string> WriteTokensAsync(RequestTarget target, IReadOnlyList<long[]> tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(tokens);
        var flat = tokens.SelectMany(t => t).ToArray();
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(target.Folder + "tokens.npy");
        await BlobWrites.WriteAsync(blob, Npy.Int64(flat, tokens.Count, tokens.Count == 0 ? 0 : tokens[0].Length), "application/octet-stream", cancellationToken).ConfigureAwait(false);
        return $"{target.Container}/{blob.Name}";
    }

    /// <summary>Commits result.json and publishes the completion event.</summary>
    public async Task<RequestOutcome> CompleteAsync(RequestTarget target, RequestRecord record, string eventType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(record);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(target.Folder + "result.json");
        if (await BlobWrites.TryCreateAsync(blob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            await events.PublishAsync(MageEvent.Create(eventType, $"requests/{target.RequestId}", target.Folder,
                new MageEventData(null, target.RequestId, "completed", [.. record.Outputs, $"{target.Container}/{blob.Name}"]), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            LogCompleted(logger, target.RequestId, target.Container, target.Folder);
        }

        return new RequestOutcome("completed", target.Folder);
    }

    /// <summary>Writes error.json (once) and publishes the failure event. With no usable target, the error goes under <c>{defaultPrefix}_rejected/{hash}/</c>.</summary>
    public async Task<RequestOutcome> FailAsync(RequestTarget? target, string message, string defaultPrefix, string? kind, string reason, string eventType, CancellationToken cancellationToken)
    {
        target ??= new RequestTarget("_rejected", storage.Value.ResultsContainer,
            $"{BlobNames.AsFolder(defaultPrefix)}_rejected/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message)))[..32]}/");
        LogFailed(logger, target.RequestId, reason);
        var record = new RequestRecord(target.RequestId, "failed", kind, [], null, null, null, reason);
        var blob = blobs.GetBlobContainerClient(target.Container).GetBlobClient(target.Folder + "error.json");
        try
        {
            if (await BlobWrites.TryCreateAsync(blob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                await events.PublishAsync(MageEvent.Create(eventType, $"requests/{target.RequestId}", target.Folder,
                    new MageEventData(null, target.RequestId, "failed", [$"{target.Container}/{blob.Name}"], reason), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Azure.RequestFailedException e) when (BlobWrites.IsNotFound(e))
        {
            // The requested output container does not exist: nowhere to put error.json; the event still tells.
            await events.PublishAsync(MageEvent.Create(eventType, $"requests/{target.RequestId}", target.Folder,
                new MageEventData(null, target.RequestId, "failed", [], $"{reason} (output container '{target.Container}' does not exist)"), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }

        return new RequestOutcome("failed", target.Folder, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} completed into {Container}/{Folder}")]
    private static partial void LogCompleted(ILogger logger, string requestId, string container, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string requestId, string reason);
}

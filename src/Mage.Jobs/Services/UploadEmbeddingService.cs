using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Events;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Services;

/// <summary>What happened to one upload.</summary>
/// <param name="Status"><c>completed</c>, <c>failed</c>, <c>skipped</c> (already done) or <c>gone</c> (blob deleted or replaced).</param>
/// <param name="Folder">The results folder, or null when nothing was written.</param>
/// <param name="Error">Why it failed.</param>
public sealed record UploadOutcome(string Status, string? Folder, string? Error = null);

/// <summary>
/// Embeds one uploaded image: tokens and the linear-probe feature, written as .npy next to a
/// record.json under <c>uploads/{name}/{etag-hash}/</c> in the results container. One version of a
/// blob is processed once: the record (or error.json) is written last, and its existence is the
/// skip check. Bad input ends in error.json and a normal return; storage trouble throws so the
/// host retries.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class UploadEmbeddingService(
    BlobServiceClient blobs,
    IMageEngineSource engines,
    IEventPublisher events,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    TimeProvider time,
    ILogger<UploadEmbeddingService> logger)
{
    private static readonly EmbedOptions Embed = new(FeaturePooling.Linprobe, Normalize: false, PreprocessMode.Linprobe);

    /// <summary>Processes the current version of <paramref name="blob"/>.</summary>
    public async Task<UploadOutcome> ProcessAsync(BlobClient blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var total = Stopwatch.StartNew();
        var properties = await BlobWrites.TryGetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        if (properties is null)
        {
            LogGone(logger, blob.BlobContainerName, blob.Name);
            return new UploadOutcome("gone", null);
        }

        var etag = properties.ETag.ToString();
        var nameProblem = BlobNames.CheckBlobName(blob.Name, limits.Value.MaxBlobNameLength);
        var folder = ResultsLayout.UploadFolder(blob.Name, etag, nameProblem is null);
        var results = blobs.GetBlobContainerClient(storage.Value.ResultsContainer);
        var recordBlob = results.GetBlobClient(folder + "record.json");
        var errorBlob = results.GetBlobClient(folder + "error.json");
        if (await recordBlob.ExistsAsync(cancellationToken).ConfigureAwait(false) || await errorBlob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            LogSkipped(logger, blob.Name, etag);
            return new UploadOutcome("skipped", folder);
        }

        var source = new UploadSource(blob.BlobContainerName, blob.Name, etag, properties.ContentLength, null, null, null);
        if (nameProblem is not null)
        {
            return await FailAsync(errorBlob, folder, source, "invalidName", nameProblem, cancellationToken).ConfigureAwait(false);
        }

        if (properties.ContentLength > limits.Value.MaxImageBytes)
        {
            return await FailAsync(errorBlob, folder, source, nameof(ImageDecodeFailure.TooLarge),
                $"The blob has {properties.ContentLength} bytes; at most {limits.Value.MaxImageBytes} are accepted.", cancellationToken).ConfigureAwait(false);
        }

        var downloadTimer = Stopwatch.StartNew();
        BinaryData bytes;
        try
        {
            var download = await blob.DownloadContentAsync(
                new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } }, cancellationToken).ConfigureAwait(false);
            bytes = download.Value.Content;
        }
        catch (RequestFailedException e) when (BlobWrites.IsNotFound(e) || e.Status == 412)
        {
            // Deleted or overwritten since the properties were read: the new version has its own event.
            LogGone(logger, blob.BlobContainerName, blob.Name);
            return new UploadOutcome("gone", null);
        }

        var downloadTime = downloadTimer.Elapsed;
        source = source with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes.ToMemory().Span)) };
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        ImageEmbedding embedding;
        try
        {
            embedding = await engine.EmbedAsync(bytes.ToMemory(), Embed, blob.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageDecodeException e)
        {
            return await FailAsync(errorBlob, folder, source, e.Reason.ToString(), e.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRequestException e)
        {
            return await FailAsync(errorBlob, folder, source, "invalidRequest", e.Message, cancellationToken).ConfigureAwait(false);
        }

        source = source with { Width = embedding.SourceWidth, Height = embedding.SourceHeight };
        await BlobWrites.WriteAsync(results.GetBlobClient(folder + "embedding.npy"), Npy.Float32(embedding.Features, embedding.Features.Length), "application/octet-stream", cancellationToken).ConfigureAwait(false);
        await BlobWrites.WriteAsync(results.GetBlobClient(folder + "tokens.npy"), Npy.Int64(embedding.Tokens, embedding.Tokens.Length), "application/octet-stream", cancellationToken).ConfigureAwait(false);
        var package = engine.Model.Package;
        var record = new UploadRecord(
            "completed",
            new ModelInfo(package.Manifest.Arch, package.ContentHash, package.Manifest.Precision, package.FeatureDim, engine.Model.Device.Description),
            "linprobe",
            Normalized: false,
            "linprobe",
            source,
            new UploadFiles(
                new NpyInfo(folder + "embedding.npy", "float32", [embedding.Features.Length]),
                new NpyInfo(folder + "tokens.npy", "int64", [embedding.Tokens.Length])),
            new UploadTimings(downloadTime.TotalMilliseconds, embedding.DecodeTime.TotalMilliseconds, embedding.InferenceTime.TotalMilliseconds, total.Elapsed.TotalMilliseconds),
            null,
            null);

        // The record is the commit: written last, and only once.
        if (!await BlobWrites.TryCreateAsync(recordBlob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return new UploadOutcome("skipped", folder);
        }

        LogEmbedded(logger, blob.Name, etag, folder, total.Elapsed.TotalMilliseconds);
        await events.PublishAsync(MageEvent.Create(
            MageEventTypes.UploadCompleted,
            $"{blob.BlobContainerName}/{blob.Name}",
            etag,
            new MageEventData(null, null, "completed", [$"{results.Name}/{folder}record.json", $"{results.Name}/{folder}embedding.npy", $"{results.Name}/{folder}tokens.npy"]),
            time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        return new UploadOutcome("completed", folder);
    }

    private async Task<UploadOutcome> FailAsync(BlobClient errorBlob, string folder, UploadSource source, string reason, string message, CancellationToken cancellationToken)
    {
        var record = new UploadRecord("failed", null, null, null, null, source, null, null, reason, message);
        LogRejected(logger, source.Name, reason, message);
        if (await BlobWrites.TryCreateAsync(errorBlob, JsonDefaults.ToDocument(record), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            await events.PublishAsync(MageEvent.Create(
                MageEventTypes.UploadFailed,
                $"{source.Container}/{source.Name}",
                source.Etag,
                new MageEventData(null, null, "failed", [$"{storage.Value.ResultsContainer}/{folder}error.json"], $"{reason}: {message}"),
                time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }

        return new UploadOutcome("failed", folder, $"{reason}: {message}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Container}/{Name} no longer exists in the version that triggered; nothing to do")]
    private static partial void LogGone(ILogger logger, string container, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Name} (etag {Etag}) was already processed")]
    private static partial void LogSkipped(ILogger logger, string name, string etag);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {Name} rejected ({Reason}): {Message}")]
    private static partial void LogRejected(ILogger logger, string name, string reason, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded upload {Name} (etag {Etag}) into {Folder} in {ElapsedMs} ms")]
    private static partial void LogEmbedded(ILogger logger, string name, string etag, string folder, double elapsedMs);
}

/// <summary>The record.json (or error.json) of one upload version.</summary>
public sealed record UploadRecord(
    string Status,
    ModelInfo? Model,
    string? Pooling,
    bool? Normalized,
    string? Preprocess,
    UploadSource Source,
    UploadFiles? Files,
    UploadTimings? TimingsMs,
    string? Reason,
    string? Message);

/// <summary>The model that produced a result.</summary>
public sealed record ModelInfo(string Arch, string PackageHash, string Precision, int FeatureDim, string Device);

/// <summary>The blob a result came from.</summary>
/// <param name="Container">Its container.</param>
/// <param name="Name">Its name.</param>
/// <param name="Etag">The version processed.</param>
/// <param name="Bytes">Encoded size in bytes.</param>
/// <param name="Sha256">SHA-256 of the encoded bytes, hex; null when they were never downloaded.</param>
/// <param name="Width">Decoded width in pixels before preprocessing.</param>
/// <param name="Height">Decoded height in pixels before preprocessing.</param>
public sealed record UploadSource(string Container, string Name, string Etag, long Bytes, string? Sha256, int? Width, int? Height);

/// <summary>The data files of an upload result.</summary>
public sealed record UploadFiles(NpyInfo Embedding, NpyInfo Tokens);

/// <summary>One .npy file: its path in the results container, dtype and shape.</summary>
public sealed record NpyInfo(string Path, string Dtype, IReadOnlyList<int> Shape);

/// <summary>Where the time went, in milliseconds. Inference includes waiting for a batch.</summary>
public sealed record UploadTimings(double Download, double Decode, double Inference, double Total);

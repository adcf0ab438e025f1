using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Numpy;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Outputs;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Uploads;

/// <summary>
/// Embeds one uploaded image: tokens and the linear-probe feature, written as .npy next to a
/// record.json under <c>uploads/{name}/{etag-hash}/</c> in the results container. One version of a
/// blob is processed once: the record (or error.json) is written last, and its existence is the
/// skip check. The version is claimed (<see cref="ResultsLayout.Claim"/> in its folder) before it
/// is embedded, and a copy that finds the claim held skips it too. Bad input ends in error.json and
/// a normal return; storage trouble throws so the host retries.
/// </summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed partial class UploadEmbeddingService(
    BlobServiceClient blobs,
    IMageEngineSource engines,
    WorkCommits commits,
    IOptions<StorageSettings> storage,
    IOptions<LimitSettings> limits,
    ILogger<UploadEmbeddingService> logger)
{
    /// <summary>What every upload is embedded with; <c>POST /api/embeddings</c> uses the same, so its vectors match the uploads' embedding.npy.</summary>
    internal static readonly EmbedOptions Embed = new(MageDefaults.Pooling, Normalize: false, MageDefaults.EmbedPreprocess);

    /// <summary>Processes the current version of <paramref name="blob"/>.</summary>
    public async Task<UploadOutcome> ProcessAsync(BlobClient blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var total = Stopwatch.StartNew();
        var properties = await BlobWrites.TryGetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        if (properties is null)
        {
            LogGone(logger, blob.BlobContainerName, blob.Name);
            return new UploadOutcome(WorkOutcome.Gone, null);
        }

        var etag = properties.ETag.ToString();
        var nameProblem = BlobNames.CheckBlobName(blob.Name, limits.Value.MaxBlobNameLength, ResultsLayout.UploadNameSuffix);
        var folder = ResultsLayout.UploadFolder(blob.Name, etag, nameProblem is null);
        var results = blobs.GetBlobContainerClient(storage.Value.ResultsContainer);
        var unit = new WorkUnit(
            results.GetBlobClient(ResultsLayout.UploadRecord(folder)),
            results.GetBlobClient(ResultsLayout.Error(folder)),
            results.GetBlobClient(ResultsLayout.Claim(folder)),
            $"Upload {blob.BlobContainerName}/{blob.Name} (etag {etag})",
            $"upload:{BlobNames.ShortHash(etag)}");

        // Claimed before anything is computed: copies of the event (or workers listing the same
        // container) would each embed the upload. A busy copy throws, like a busy shard or edit,
        // so its host tries again later: by then the holder has committed (the retry skips) or
        // died (the retry embeds). Returning "skipped" would let mage worker forget the upload.
        ClaimedWork? claimed;
        try
        {
            claimed = await commits.ClaimAsync(unit, cancellationToken).ConfigureAwait(false);
        }
        catch (WorkClaimedException)
        {
            LogClaimed(logger, blob.Name, etag);
            throw;
        }

        if (claimed is null)
        {
            LogSkipped(logger, blob.Name, etag);
            return new UploadOutcome(WorkOutcome.Skipped, folder);
        }

        await using var work = claimed;
        var source = new UploadSource(blob.BlobContainerName, blob.Name, etag, properties.ContentLength, null, null, null);
        if (nameProblem is not null)
        {
            return await FailAsync(work, folder, source, nameProblem.Reason, nameProblem.Message, cancellationToken).ConfigureAwait(false);
        }

        if (properties.ContentLength > limits.Value.MaxImageBytes)
        {
            return await FailAsync(work, folder, source, ErrorReason.TooLarge,
                $"The blob has {properties.ContentLength} bytes; at most {limits.Value.MaxImageBytes} are accepted.", cancellationToken).ConfigureAwait(false);
        }

        var downloadTimer = Stopwatch.StartNew();
        byte[] bytes;
        try
        {
            bytes = (await SourceReads.DownloadAsync(blob, "upload", limits.Value.MaxImageBytes, properties.ETag, cancellationToken).ConfigureAwait(false)).Bytes;
        }
        catch (Exception e) when (e is SourceReadException { Reason: ErrorReason.Missing } || (e is RequestFailedException r && r.Status == 412))
        {
            // Deleted or overwritten since the properties were read: the new version has its own event.
            LogGone(logger, blob.BlobContainerName, blob.Name);
            return new UploadOutcome(WorkOutcome.Gone, null);
        }
        catch (SourceReadException e)
        {
            return await FailAsync(work, folder, source, e.Reason, e.Message, cancellationToken).ConfigureAwait(false);
        }

        var downloadTime = downloadTimer.Elapsed;
        source = source with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
        var engine = await engines.GetEngineAsync(cancellationToken).ConfigureAwait(false);
        ImageEmbedding embedding;
        try
        {
            embedding = await engine.EmbedAsync(bytes, Embed, blob.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageDecodeException e)
        {
            return await FailAsync(work, folder, source, ErrorReasons.From(e.Reason), e.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRequestException e)
        {
            return await FailAsync(work, folder, source, ErrorReason.InvalidRequest, e.Message, cancellationToken).ConfigureAwait(false);
        }

        source = source with { Width = embedding.SourceWidth, Height = embedding.SourceHeight };
        var embeddingName = ResultsLayout.UploadEmbedding(folder);
        var tokensName = ResultsLayout.Tokens(folder);
        string embeddingPath, tokensPath;
        try
        {
            embeddingPath = await work.WriteAsync(embeddingName, Npy.Float32(embedding.Features, embedding.Features.Length), "application/octet-stream", cancellationToken).ConfigureAwait(false);
            tokensPath = await work.WriteAsync(tokensName, BinaryData.FromBytes(TokenFile.ToBytes(embedding.Tokens)), "application/octet-stream", cancellationToken).ConfigureAwait(false);
        }
        catch (OutputInUseException e)
        {
            // A file in the version's folder that this upload did not write is left as it is; the upload is refused, not retried.
            return await FailAsync(work, folder, source, ErrorReason.OutputInUse, e.Message, cancellationToken).ConfigureAwait(false);
        }

        var record = new UploadRecord(
            RecordStatus.Completed,
            ModelInfo.Of(engine.Model),
            Embed.Pooling,
            Embed.Normalize,
            Embed.Preprocess,
            source,
            new UploadFiles(
                new NpyInfo(embeddingName, "float32", [embedding.Features.Length]),
                new NpyInfo(tokensName, "int64", [embedding.Tokens.Length])),
            new UploadTimings(downloadTime.TotalMilliseconds, embedding.DecodeTime.TotalMilliseconds, embedding.InferenceTime.TotalMilliseconds, total.Elapsed.TotalMilliseconds),
            null,
            null);

        // The record is the commit: written last, and only once.
        var announce = new MageEventDraft(MageEventTypes.UploadCompleted, $"{blob.BlobContainerName}/{blob.Name}", etag,
            new MageEventData(null, null, RecordStatus.Completed, [$"{results.Name}/{unit.Record.Name}", embeddingPath, tokensPath]));
        if (!await work.CompleteAsync(record, announce, cancellationToken).ConfigureAwait(false))
        {
            return new UploadOutcome(WorkOutcome.Skipped, folder);
        }

        LogEmbedded(logger, blob.Name, etag, folder, total.Elapsed.TotalMilliseconds);
        return new UploadOutcome(WorkOutcome.Completed, folder);
    }

    private async Task<UploadOutcome> FailAsync(ClaimedWork work, string folder, UploadSource source, ErrorReason reason, string message, CancellationToken cancellationToken)
    {
        var record = new UploadRecord(RecordStatus.Failed, null, null, null, null, source, null, null, reason, message);
        var text = ErrorReasons.Format(reason, message);
        LogRejected(logger, source.Name, text);
        var announce = new MageEventDraft(MageEventTypes.UploadFailed, $"{source.Container}/{source.Name}", source.Etag,
            new MageEventData(null, null, RecordStatus.Failed, [$"{storage.Value.ResultsContainer}/{work.Unit.Error!.Name}"], text));
        await work.FailAsync(record, announce, cancellationToken).ConfigureAwait(false);
        return new UploadOutcome(WorkOutcome.Failed, folder, text);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Container}/{Name} no longer exists in the version that triggered; nothing to do")]
    private static partial void LogGone(ILogger logger, string container, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Name} (etag {Etag}) was already processed")]
    private static partial void LogSkipped(ILogger logger, string name, string etag);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Name} (etag {Etag}) is being embedded by another delivery; skipped")]
    private static partial void LogClaimed(ILogger logger, string name, string etag);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {Name} rejected: {Error}")]
    private static partial void LogRejected(ILogger logger, string name, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded upload {Name} (etag {Etag}) into {Folder} in {ElapsedMs} ms")]
    private static partial void LogEmbedded(ILogger logger, string name, string etag, string folder, double elapsedMs);
}

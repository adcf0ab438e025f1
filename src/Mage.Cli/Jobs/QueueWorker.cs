using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Mage.Inference;
using Mage.Jobs.Options;
using Mage.Jobs.Services;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Jobs;

/// <summary>
/// Runs the Functions app's job services without the Functions host: polls the jobs, shards,
/// edits and generation queues (receive with a visibility timeout, process, delete on success,
/// move to <c>{queue}-poison</c> after <see cref="MaxDequeueCount"/> failed attempts, as host.json
/// configures the host) and lists the uploads container for blobs that have no result yet (there
/// is no Event Grid locally; <see cref="UploadEmbeddingService"/> skips versions already done).
/// A storage outage does not end a continuous run (<see cref="RunAsync"/>); cancelling it makes
/// the messages not yet done visible again at once.
/// </summary>
/// <remarks>One instance per run; not thread-safe itself, but processes up to <see cref="BatchSize"/> messages of a queue concurrently.</remarks>
internal sealed partial class QueueWorker(JobsHost host, QueueServiceClient rawQueues, BlobServiceClient workerBlobs, ILogger logger)
{
    /// <summary>As host.json's <c>maxDequeueCount</c>.</summary>
    public const int MaxDequeueCount = 5;

    /// <summary>Messages received (and run concurrently) per queue and poll, as host.json's <c>batchSize</c>.</summary>
    public const int BatchSize = 16;

    /// <summary>How long a received message stays hidden. The host renews visibility while it works; this worker does not, so it is generous.</summary>
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Delay before a failed message is retried when running continuously (host.json's <c>visibilityTimeout</c>).</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MinPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan UploadListInterval = TimeSpan.FromSeconds(10);

    private readonly HashSet<string> uploadsDone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> uploadFailures = new(StringComparer.Ordinal);
    private readonly StorageOutage outage = new(logger);
    private bool once;

    public WorkerTally Tally { get; } = new();

    /// <summary>
    /// Processes until <paramref name="cancellationToken"/> fires or, with <paramref name="drainOnce"/>,
    /// until a full pass over the uploads and every queue finds nothing to do.
    /// </summary>
    /// <remarks>
    /// Running continuously, storage failures never end the run: the loop logs the outage once
    /// (<see cref="StorageOutage"/>), waits with a growing delay, creates the containers and queues
    /// again (storage may be back empty) and resumes. Only at start-up does an answer that is an
    /// error (a wrong key, a missing account) end the run, so a bad setting fails at once. With
    /// <paramref name="drainOnce"/> any storage failure ends the run.
    /// </remarks>
    public async Task RunAsync(bool drainOnce, CancellationToken cancellationToken)
    {
        once = drainOnce;
        var s = host.Storage;
        var dispatcher = host.Get<WorkDispatcher>();
        var queues = Enum.GetValues<WorkQueue>()
            .Select(q => (Queue: s.QueueName(q), Label: Label(q), Handle: (Func<string, CancellationToken, Task<Outcome>>)((m, ct) => dispatcher.HandleAsync(q, m, ct))))
            .ToArray();

        var idle = MinPollInterval;
        var lastUploadList = Stopwatch.StartNew();
        var uploadsDue = true;
        var started = false;
        var storageReady = false;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var work = 0;
            try
            {
                if (!storageReady)
                {
                    await EnsureStorageAsync(cancellationToken).ConfigureAwait(false);
                    storageReady = true;
                    outage.Answered();
                    if (!started)
                    {
                        started = true;
                        LogStarted(logger, s.UploadsContainer, string.Join(", ", queues.Select(q => q.Queue)), drainOnce ? "until drained" : "until Ctrl+C or SIGTERM");
                    }
                }

                if (drainOnce || uploadsDue || lastUploadList.Elapsed >= UploadListInterval)
                {
                    work += await ProcessUploadsAsync(cancellationToken).ConfigureAwait(false);
                    lastUploadList.Restart();
                    uploadsDue = false;
                }

                foreach (var (queue, label, handle) in queues)
                {
                    work += await ProcessBatchAsync(queue, label, handle, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!drainOnce && (started ? StorageFailures.IsStorageFailure(e, cancellationToken) : StorageFailures.IsUnavailable(e, cancellationToken)))
            {
                outage.Failed(e);
                storageReady = false;
                await Task.Delay(StorageOutage.Delay(++failures), cancellationToken).ConfigureAwait(false);
                continue;
            }

            failures = 0;
            outage.Answered();
            if (work > 0)
            {
                idle = MinPollInterval;
                continue;
            }

            if (drainOnce)
            {
                break;
            }

            await Task.Delay(idle, cancellationToken).ConfigureAwait(false);
            idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, MaxPollInterval.Ticks));
        }
    }

    /// <summary>
    /// Creates the containers and queues the services use, so a fresh Azurite works; existing ones
    /// are left alone. Its clients fail fast, which makes this a quick probe while storage is down.
    /// </summary>
    private async Task EnsureStorageAsync(CancellationToken cancellationToken)
    {
        var s = host.Storage;
        foreach (var queue in s.AllQueueNames())
        {
            await rawQueues.GetQueueClient(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var container in new[] { s.UploadsContainer, s.ResultsContainer, s.JobsContainer })
        {
            await workerBlobs.GetBlobContainerClient(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> ProcessUploadsAsync(CancellationToken cancellationToken)
    {
        var container = host.Blobs.GetBlobContainerClient(host.Storage.UploadsContainer);
        var pending = new List<(string Name, string Key)>();
        await foreach (var item in workerBlobs.GetBlobContainerClient(host.Storage.UploadsContainer).GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
        {
            var key = item.Name + "\n" + item.Properties.ETag;
            if (!uploadsDone.Contains(key))
            {
                pending.Add((item.Name, key));
            }
        }

        var worked = 0;
        var service = host.Get<UploadEmbeddingService>();
        var outcomes = new ConcurrentBag<(string Key, Outcome? Status)>();
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = BatchSize, CancellationToken = cancellationToken }, async (upload, ct) =>
        {
            try
            {
                var outcome = await service.ProcessAsync(container.GetBlobClient(upload.Name), ct).ConfigureAwait(false);
                if (outcome.Status != Outcome.Skipped)
                {
                    LogUpload(logger, upload.Name, WireNames.Of(outcome.Status), outcome.Folder ?? "-");
                    Tally.Add($"upload {WireNames.Of(outcome.Status)}");
                    Interlocked.Increment(ref worked);
                }

                outcomes.Add((upload.Key, outcome.Status));
            }
            catch (Exception e) when (StorageFailures.IsUnavailable(e, ct))
            {
                // Storage is down: not this upload's fault, so it does not count toward giving up; the next listing finds it again.
                outage.Failed(e);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // The service throws so it is retried, like the blob trigger's poison threshold.
                LogUploadFailed(logger, upload.Name, e);
                outcomes.Add((upload.Key, null));
            }
        }).ConfigureAwait(false);

        foreach (var (key, status) in outcomes)
        {
            if (status is not null)
            {
                uploadsDone.Add(key);
                continue;
            }

            var failures = uploadFailures[key] = uploadFailures.GetValueOrDefault(key) + 1;
            if (failures >= MaxDequeueCount)
            {
                LogUploadAbandoned(logger, key[..key.IndexOf('\n', StringComparison.Ordinal)], failures);
                Tally.Add("upload abandoned");
                uploadsDone.Add(key);
            }
            else
            {
                worked++; // try again on the next pass
            }
        }

        return worked;
    }

    private async Task<int> ProcessBatchAsync(string queueName, string label, Func<string, CancellationToken, Task<Outcome>> handle, CancellationToken cancellationToken)
    {
        var queue = rawQueues.GetQueueClient(queueName);
        QueueMessage[] messages = await queue.ReceiveMessagesAsync(BatchSize, VisibilityTimeout, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(messages.Select(m => ProcessMessageAsync(queue, label, m, handle, cancellationToken))).ConfigureAwait(false);
        return messages.Length;
    }

    private async Task ProcessMessageAsync(QueueClient queue, string label, QueueMessage message, Func<string, CancellationToken, Task<Outcome>> handle, CancellationToken cancellationToken)
    {
        if (!TryDecode(message.Body, out var text))
        {
            await PoisonAsync(queue, label, message, "the message is not base64 UTF-8 text (the Functions host reads base64)").ConfigureAwait(false);
            return;
        }

        if (message.DequeueCount > MaxDequeueCount)
        {
            await PoisonAsync(queue, label, message, $"dequeued {message.DequeueCount} times").ConfigureAwait(false);
            return;
        }

        var timer = Stopwatch.StartNew();
        Outcome status;
        try
        {
            status = await handle(text, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: nothing was committed; make the message visible again now rather than after the timeout.
            await SettleAsync(queue, label, message, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception e)
        {
            // The services turn bad input into error records themselves; what throws is transient
            // (storage, the model). Retry like the host does, and never let one message stop the worker.
            if (StorageFailures.IsUnavailable(e, cancellationToken))
            {
                outage.Failed(e);
            }
            else
            {
                LogMessageFailed(logger, label, message.MessageId, message.DequeueCount, e);
            }

            if (message.DequeueCount >= MaxDequeueCount)
            {
                await PoisonAsync(queue, label, message, $"failed {message.DequeueCount} times, last: {e.Message}").ConfigureAwait(false);
            }
            else
            {
                var retryIn = once || cancellationToken.IsCancellationRequested ? TimeSpan.Zero : RetryDelay;
                await SettleAsync(queue, label, message, retryIn, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        await SettleAsync(queue, label, message, null, cancellationToken).ConfigureAwait(false);
        LogMessage(logger, label, message.MessageId, WireNames.Of(status), timer.Elapsed.TotalMilliseconds);
        Tally.Add($"{label} {WireNames.Of(status)}");
    }

    /// <summary>
    /// Deletes the message (<paramref name="visibility"/> null) or makes it visible again after
    /// <paramref name="visibility"/>. While storage does not answer it tries again with the outage
    /// delays: the pop receipt stays valid as long as the message is hidden, so a message is not
    /// left waiting out <see cref="VisibilityTimeout"/> because of a short outage. Stopping, or an
    /// answer that is an error (the message was received again elsewhere), ends the tries; the
    /// message then reappears after its visibility timeout. Never throws.
    /// </summary>
    private async Task SettleAsync(QueueClient queue, string label, QueueMessage message, TimeSpan? visibility, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                if (visibility is { } delay)
                {
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: delay, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception e) when (StorageFailures.IsStorageFailure(e))
            {
                if (once || cancellationToken.IsCancellationRequested || !StorageFailures.IsUnavailable(e))
                {
                    LogUnsettled(logger, label, message.MessageId, visibility is null ? "delete" : "release", StorageFailures.Describe(e));
                    return;
                }

                outage.Failed(e);

                // Stopping during the wait leads to one last try.
                await Task.Delay(StorageOutage.Delay(failures), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Moves the message to <c>{queue}-poison</c>. Never throws: if storage fails, the message reappears after its visibility timeout and is moved then.</summary>
    private async Task PoisonAsync(QueueClient queue, string label, QueueMessage message, string reason)
    {
        var poison = rawQueues.GetQueueClient(queue.Name + "-poison");
        try
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            LogUnsettled(logger, label, message.MessageId, $"move to {poison.Name}", StorageFailures.Describe(e));
            return;
        }

        LogPoisoned(logger, label, message.MessageId, poison.Name, reason);
        Tally.Add($"{label} poisoned");
    }

    /// <summary>How logs and the tally name a queue's messages: <c>job</c>, <c>shard</c>, <c>edit</c>, <c>generate</c>.</summary>
    private static string Label(WorkQueue queue) => queue switch
    {
        WorkQueue.Jobs => "job",
        WorkQueue.Shards => "shard",
        WorkQueue.Edits => "edit",
        _ => WireNames.Of(queue),
    };

    /// <summary>Queue bodies are base64 of UTF-8 (host.json <c>messageEncoding: base64</c>).</summary>
    private static bool TryDecode(BinaryData body, out string text)
    {
        var raw = body.ToString();
        var buffer = new byte[raw.Length];
        if (Convert.TryFromBase64String(raw, buffer, out var written))
        {
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, written);
                return true;
            }
            catch (DecoderFallbackException)
            {
            }
        }

        text = "";
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker started: uploads in '{Uploads}', queues {Queues}; running {Mode}")]
    private static partial void LogStarted(ILogger logger, string uploads, string queues, string mode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "upload {Name}: {Status} ({Folder})")]
    private static partial void LogUpload(ILogger logger, string name, string status, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "upload {Name} failed; will retry")]
    private static partial void LogUploadFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "upload {Name} failed {Failures} times; giving up on this version")]
    private static partial void LogUploadAbandoned(ILogger logger, string name, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label} message {MessageId}: {Status} in {ElapsedMs:F0} ms")]
    private static partial void LogMessage(ILogger logger, string label, string messageId, string status, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Label} message {MessageId} failed (attempt {Attempt})")]
    private static partial void LogMessageFailed(ILogger logger, string label, string messageId, long attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Label} message {MessageId}: {Action} failed ({Reason}); it reappears after its visibility timeout")]
    private static partial void LogUnsettled(ILogger logger, string label, string messageId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Label} message {MessageId} moved to {PoisonQueue}: {Reason}")]
    private static partial void LogPoisoned(ILogger logger, string label, string messageId, string poisonQueue, string reason);
}

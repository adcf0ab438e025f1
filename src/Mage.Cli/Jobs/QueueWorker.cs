using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
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
/// </summary>
/// <remarks>One instance per run; not thread-safe itself, but processes up to <see cref="BatchSize"/> messages of a queue concurrently.</remarks>
internal sealed partial class QueueWorker(JobsHost host, QueueServiceClient rawQueues, ILogger logger)
{
    /// <summary>As host.json's <c>maxDequeueCount</c>.</summary>
    public const int MaxDequeueCount = 5;

    /// <summary>Messages received (and run concurrently) per queue and poll, as host.json's <c>batchSize</c>.</summary>
    public const int BatchSize = 16;

    /// <summary>How long a received message stays hidden. The host renews visibility while it works; this worker does not, so it is generous.</summary>
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Delay before a failed message is retried when running continuously (host.json's <c>visibilityTimeout</c>).</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan UploadListInterval = TimeSpan.FromSeconds(10);

    private readonly HashSet<string> uploadsDone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> uploadFailures = new(StringComparer.Ordinal);
    private bool once;

    public WorkerTally Tally { get; } = new();

    /// <summary>
    /// Processes until <paramref name="cancellationToken"/> fires or, with <paramref name="drainOnce"/>,
    /// until a full pass over the uploads and every queue finds nothing to do.
    /// </summary>
    public async Task RunAsync(bool drainOnce, CancellationToken cancellationToken)
    {
        once = drainOnce;
        var s = host.Storage;
        var dispatcher = host.Get<WorkDispatcher>();
        var queues = Enum.GetValues<WorkQueue>()
            .Select(q => (Queue: s.QueueName(q), Label: Label(q), Handle: (Func<string, CancellationToken, Task<Outcome>>)((m, ct) => dispatcher.HandleAsync(q, m, ct))))
            .ToArray();

        await EnsureStorageAsync(cancellationToken).ConfigureAwait(false);
        LogStarted(logger, s.UploadsContainer, string.Join(", ", queues.Select(q => q.Queue)), drainOnce ? "until drained" : "until Ctrl+C");
        var idle = TimeSpan.FromMilliseconds(100);
        var lastUploadList = Stopwatch.StartNew();
        var firstPass = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            var work = 0;
            if (drainOnce || firstPass || lastUploadList.Elapsed >= UploadListInterval)
            {
                work += await ProcessUploadsAsync(cancellationToken).ConfigureAwait(false);
                lastUploadList.Restart();
                firstPass = false;
            }

            foreach (var (queue, label, handle) in queues)
            {
                work += await ProcessBatchAsync(queue, label, handle, cancellationToken).ConfigureAwait(false);
            }

            if (work > 0)
            {
                idle = TimeSpan.FromMilliseconds(100);
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

    /// <summary>Creates the containers and queues the services use, so a fresh Azurite works; existing ones are left alone.</summary>
    private async Task EnsureStorageAsync(CancellationToken cancellationToken)
    {
        var s = host.Storage;
        foreach (var container in new[] { s.UploadsContainer, s.ResultsContainer, s.JobsContainer })
        {
            await host.Blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        foreach (var queue in s.AllQueueNames())
        {
            await rawQueues.GetQueueClient(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> ProcessUploadsAsync(CancellationToken cancellationToken)
    {
        var container = host.Blobs.GetBlobContainerClient(host.Storage.UploadsContainer);
        var pending = new List<(string Name, string Key)>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
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
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Storage trouble: the service throws so it is retried, like the blob trigger's poison threshold.
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
        try
        {
            var status = await handle(text, cancellationToken).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
            LogMessage(logger, label, message.MessageId, WireNames.Of(status), timer.Elapsed.TotalMilliseconds);
            Tally.Add($"{label} {WireNames.Of(status)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: nothing was committed; make the message visible again now rather than after the timeout.
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The services turn bad input into error records themselves; what throws is transient
            // (storage, the model). Retry like the host does, and never let one message stop the worker.
            LogMessageFailed(logger, label, message.MessageId, message.DequeueCount, e);
            if (message.DequeueCount >= MaxDequeueCount)
            {
                await PoisonAsync(queue, label, message, $"failed {message.DequeueCount} times, last: {e.Message}").ConfigureAwait(false);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: once ? TimeSpan.Zero : RetryDelay, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task PoisonAsync(QueueClient queue, string label, QueueMessage message, string reason)
    {
        var poison = rawQueues.GetQueueClient(queue.Name + "-poison");
        await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "{Label} message {MessageId} moved to {PoisonQueue}: {Reason}")]
    private static partial void LogPoisoned(ILogger logger, string label, string messageId, string poisonQueue, string reason);
}

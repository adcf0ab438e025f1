using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Mage.Inference;
using Mage.Jobs.Coordination;
using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Mage.Jobs.Uploads;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Worker;

/// <summary>
/// Runs the Functions app's job services without the Functions host: polls the jobs, shards,
/// edits and generation queues (receive with a short lease, renew it while processing, delete on
/// success, move to <c>{queue}-poison</c> after <see cref="MaxDequeueCount"/> failed attempts, as
/// host.json configures the host) and lists the uploads container for blobs that have no result
/// yet (there is no Event Grid locally; <see cref="UploadEmbeddingService"/> skips versions already
/// done). A storage outage does not end a continuous run (<see cref="RunAsync"/>); cancelling it
/// makes the messages not yet done visible again at once.
/// </summary>
/// <remarks>
/// <para><b>Leases.</b> A message is received with a visibility timeout of <c>lease</c>
/// (<see cref="WorkerDefaults.LeaseSeconds"/> unless <c>--lease</c> says otherwise) and renewed
/// while it runs (<see cref="MessageLease"/>), so a worker killed mid-message delays that message
/// by at most one lease, not the host's 10 minutes.</para>
/// <para><b>Slots.</b> Each queue has <see cref="WorkQueueEntry.Slots"/> slots; a poll receives
/// only as many messages as are free, and a message finishing frees its slot for the next poll, so
/// the messages this worker cannot start soon stay visible to other workers.</para>
/// One instance per run; not thread-safe itself, but runs its messages concurrently.
/// </remarks>
internal sealed partial class QueueWorker(JobsHost host, QueueServiceClient rawQueues, BlobServiceClient workerBlobs, ILogger logger, TimeSpan lease)
{
    /// <summary>As host.json's <c>maxDequeueCount</c>.</summary>
    public const int MaxDequeueCount = 5;

    /// <summary>Uploads embedded concurrently per listing, as host.json's blob <c>maxDegreeOfParallelism</c>.</summary>
    public const int UploadParallelism = 16;

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
    /// until no message is running and a full pass over the uploads and every queue finds nothing to do.
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
        var lanes = WorkQueues.All
            .Select(q => new Lane(rawQueues.GetQueueClient(q.NameIn(s)), q.Label, q.Slots, (m, ct) => dispatcher.HandleAsync(q.Queue, m, ct)))
            .ToArray();
        try
        {
            await PollAsync(lanes, drainOnce, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Stopping (or drained): the messages still running release what they hold (visibility 0) before the run ends.
            await Task.WhenAll(lanes.SelectMany(l => l.Running)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task PollAsync(Lane[] lanes, bool drainOnce, CancellationToken cancellationToken)
    {
        var s = host.Storage;
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
                        LogStarted(logger, s.UploadsContainer, string.Join(", ", lanes.Select(l => $"{l.Queue.Name} ({l.Slots} at a time)")), lease.TotalSeconds, drainOnce ? "until drained" : "until Ctrl+C or SIGTERM");
                    }
                }

                if (drainOnce || uploadsDue || lastUploadList.Elapsed >= UploadListInterval)
                {
                    work += await ProcessUploadsAsync(cancellationToken).ConfigureAwait(false);
                    lastUploadList.Restart();
                    uploadsDue = false;
                }

                foreach (var lane in lanes)
                {
                    work += await ReceiveAsync(lane, cancellationToken).ConfigureAwait(false);
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

            var running = lanes.SelectMany(l => l.Running).Where(t => !t.IsCompleted).ToArray();
            if (drainOnce && running.Length == 0)
            {
                break;
            }

            // A message finishing frees a slot: poll again then rather than after the whole wait.
            await Task.WhenAny([Task.Delay(idle, cancellationToken), .. running]).ConfigureAwait(false);
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
        var outcomes = new ConcurrentBag<(string Key, WorkOutcome? Status)>();
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = UploadParallelism, CancellationToken = cancellationToken }, async (upload, ct) =>
        {
            try
            {
                var outcome = await service.ProcessAsync(container.GetBlobClient(upload.Name), ct).ConfigureAwait(false);
                if (outcome.Status != WorkOutcome.Skipped)
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
            catch (WorkClaimedException busy)
            {
                // Another delivery (or a dead worker whose claim has not lapsed) holds it: not a
                // failure, so it never counts toward giving up; the next listing tries it again.
                LogUploadDeferred(logger, upload.Name, busy.Message);
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

    /// <summary>Receives as many messages as <paramref name="lane"/> has free slots and starts them; returns how many it received.</summary>
    private async Task<int> ReceiveAsync(Lane lane, CancellationToken cancellationToken)
    {
        var free = lane.Free;
        if (free == 0)
        {
            return 0;
        }

        QueueMessage[] messages = await lane.Queue.ReceiveMessagesAsync(free, lease, cancellationToken).ConfigureAwait(false);
        foreach (var message in messages)
        {
            // Task.Run: a service may work a while before its first await, and the poll loop must not wait for it.
            lane.Running.Add(Task.Run(() => ProcessMessageAsync(lane, message, cancellationToken), CancellationToken.None));
        }

        return messages.Length;
    }

    private async Task ProcessMessageAsync(Lane lane, QueueMessage message, CancellationToken cancellationToken)
    {
        var (queue, label) = (lane.Queue, lane.Label);
        if (!TryDecode(message.Body, out var text))
        {
            await PoisonAsync(queue, label, message, message.PopReceipt, "the message is not base64 UTF-8 text (the Functions host reads base64)").ConfigureAwait(false);
            return;
        }

        if (message.DequeueCount > MaxDequeueCount)
        {
            await PoisonAsync(queue, label, message, message.PopReceipt, $"dequeued {message.DequeueCount} times").ConfigureAwait(false);
            return;
        }

        LogMessageStarted(logger, label, message.MessageId, message.DequeueCount);
        var timer = Stopwatch.StartNew();
        var held = MessageLease.Start(queue, label, message, lease, outage, logger);
        WorkOutcome status = default;
        Exception? failure = null;
        try
        {
            status = await lane.Handle(text, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception thrown)
        {
            failure = thrown;
        }
        finally
        {
            // Before settling: the delete or release must use the receipt of the last renewal.
            await held.StopAsync().ConfigureAwait(false);
        }

        if (failure is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // Stopping: nothing was committed; make the message visible again now rather than after the lease.
            await SettleAsync(queue, label, message.MessageId, held, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (failure is WorkClaimedException busy)
        {
            await DeferAsync(queue, label, message, held, busy).ConfigureAwait(false);
            return;
        }

        if (failure is { } e)
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

            if (held.Lost)
            {
                // Another worker received it after the lease lapsed; its attempt counts, not this one.
            }
            else if (message.DequeueCount >= MaxDequeueCount)
            {
                await PoisonAsync(queue, label, message, held.PopReceipt, $"failed {message.DequeueCount} times, last: {e.Message}").ConfigureAwait(false);
            }
            else
            {
                var retryIn = once || cancellationToken.IsCancellationRequested ? TimeSpan.Zero : RetryDelay;
                await SettleAsync(queue, label, message.MessageId, held, retryIn, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Logged before the delete, as a poisoned message's reason is logged before the move: a worker
        // killed in between leaves the message to be handled (and logged) again, never a deleted
        // message that no log line accounts for (the chaos suite checks that every bad shard message was).
        LogMessage(logger, label, message.MessageId, WireNames.Of(status), timer.Elapsed.TotalMilliseconds);
        await SettleAsync(queue, label, message.MessageId, held, null, cancellationToken).ConfigureAwait(false);
        Tally.Add($"{label} {WireNames.Of(status)}");
    }

    /// <summary>
    /// Deletes the message (<paramref name="visibility"/> null) or makes it visible again after
    /// <paramref name="visibility"/>. While storage does not answer it tries again with the
    /// <see cref="StorageOutage"/> delays: the pop receipt stays valid until another worker receives the message, so
    /// a short outage does not make a finished message run again. Stopping, or an answer that is an
    /// error (the message was received again elsewhere), ends the tries; the message then reappears
    /// when its lease lapses. Does nothing when the lease was <see cref="MessageLease.Lost"/>: the
    /// receipt is stale and the message is another worker's. Never throws.
    /// </summary>
    private async Task SettleAsync(QueueClient queue, string label, string messageId, MessageLease held, TimeSpan? visibility, CancellationToken cancellationToken)
    {
        if (held.Lost)
        {
            return;
        }

        for (var failures = 1; ; failures++)
        {
            try
            {
                if (visibility is { } delay)
                {
                    await queue.UpdateMessageAsync(messageId, held.PopReceipt, visibilityTimeout: delay, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await queue.DeleteMessageAsync(messageId, held.PopReceipt, CancellationToken.None).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception e) when (StorageFailures.IsStorageFailure(e))
            {
                if (once || cancellationToken.IsCancellationRequested || !StorageFailures.IsUnavailable(e))
                {
                    LogUnsettled(logger, label, messageId, visibility is null ? "delete" : "release", StorageFailures.Describe(e));
                    return;
                }

                outage.Failed(e);

                // Stopping during the wait leads to one last try.
                await Task.Delay(StorageOutage.Delay(failures), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Retries a message whose work another delivery has claimed after
    /// <see cref="WorkClaimedException.RetryAfter"/>. Not a failure: it may be a dead worker's
    /// message whose claim has not lapsed yet, so it must never reach the poison queue. At the
    /// dequeue limit it is sent again as a fresh message (then deleted), which resets its count.
    /// </summary>
    private async Task DeferAsync(QueueClient queue, string label, QueueMessage message, MessageLease held, WorkClaimedException busy)
    {
        LogDeferred(logger, label, message.MessageId, message.DequeueCount, WorkClaimedException.RetryAfter.TotalSeconds, busy.Message);
        Tally.Add($"{label} deferred");
        if (held.Lost || message.DequeueCount < MaxDequeueCount)
        {
            await SettleAsync(queue, label, message.MessageId, held, WorkClaimedException.RetryAfter, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        try
        {
            await queue.SendMessageAsync(message.Body, WorkClaimedException.RetryAfter, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // Not sent: keep the original, which reappears after its lease (and is deferred again then).
            LogUnsettled(logger, label, message.MessageId, "send again", StorageFailures.Describe(e));
            return;
        }

        await SettleAsync(queue, label, message.MessageId, held, null, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves the message (held with <paramref name="popReceipt"/>) to <c>{queue}-poison</c>. Never
    /// throws: if storage fails, the message reappears after its lease and is moved then. The
    /// reason is logged before the move, because the poison queue keeps only the body: a worker
    /// killed after the move but before a later log line would leave an entry nobody can explain
    /// (the chaos suite saw it).
    /// </summary>
    private async Task PoisonAsync(QueueClient queue, string label, QueueMessage message, string popReceipt, string reason)
    {
        var poison = rawQueues.GetQueueClient(queue.Name + "-poison");
        LogPoisoning(logger, label, message.MessageId, poison.Name, reason);
        try
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, popReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            LogUnsettled(logger, label, message.MessageId, $"move to {poison.Name}", StorageFailures.Describe(e));
            return;
        }

        LogPoisoned(logger, label, message.MessageId, poison.Name);
        Tally.Add($"{label} poisoned");
    }

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker started: uploads in '{Uploads}', queues {Queues}, leases of {LeaseSeconds:F0} s; running {Mode}")]
    private static partial void LogStarted(ILogger logger, string uploads, string queues, double leaseSeconds, string mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label} message {MessageId} started (attempt {Attempt})")]
    private static partial void LogMessageStarted(ILogger logger, string label, string messageId, long attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "upload {Name}: {Status} ({Folder})")]
    private static partial void LogUpload(ILogger logger, string name, string status, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "upload {Name} deferred to the next listing: {Reason}")]
    private static partial void LogUploadDeferred(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "upload {Name} failed; will retry")]
    private static partial void LogUploadFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "upload {Name} failed {Failures} times; giving up on this version")]
    private static partial void LogUploadAbandoned(ILogger logger, string name, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label} message {MessageId}: {Status} in {ElapsedMs:F0} ms")]
    private static partial void LogMessage(ILogger logger, string label, string messageId, string status, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label} message {MessageId} deferred (attempt {Attempt}), retried in {RetrySeconds:F0} s: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string label, string messageId, long attempt, double retrySeconds, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Label} message {MessageId} failed (attempt {Attempt})")]
    private static partial void LogMessageFailed(ILogger logger, string label, string messageId, long attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Label} message {MessageId}: {Action} failed ({Reason}); it reappears after its visibility timeout")]
    private static partial void LogUnsettled(ILogger logger, string label, string messageId, string action, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Label} message {MessageId} goes to {PoisonQueue}: {Reason}")]
    private static partial void LogPoisoning(ILogger logger, string label, string messageId, string poisonQueue, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Label} message {MessageId} moved to {PoisonQueue}")]
    private static partial void LogPoisoned(ILogger logger, string label, string messageId, string poisonQueue);

    /// <summary>One queue's slots: the messages of it this worker is running, at most <see cref="Slots"/>. Used by the poll loop only.</summary>
    private sealed class Lane(QueueClient queue, string label, int slots, Func<string, CancellationToken, Task<WorkOutcome>> handle)
    {
        public QueueClient Queue => queue;

        public string Label => label;

        public int Slots => slots;

        public Func<string, CancellationToken, Task<WorkOutcome>> Handle => handle;

        /// <summary>The tasks of the messages received; finished ones are dropped by <see cref="Free"/>.</summary>
        public List<Task> Running { get; } = [];

        /// <summary>How many more messages may be received now.</summary>
        public int Free
        {
            get
            {
                Running.RemoveAll(t => t.IsCompleted);
                return slots - Running.Count;
            }
        }
    }
}

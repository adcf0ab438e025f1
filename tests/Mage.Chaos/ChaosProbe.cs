using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Mage.Inference;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Options;
using Mage.Jobs.Outputs;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Chaos;

/// <summary>
/// Reads what the workers left in the run's storage, where docs/operations.md says it goes: job
/// status and Parquet parts, request and upload records, rejection records, poison queues and the
/// events queue. Thread-safe (its clients are).
/// </summary>
internal sealed class ChaosProbe(BlobServiceClient blobs, QueueServiceClient rawQueues, StorageSettings names)
{
    private static readonly HashSet<string> Reasons = new(WireNames.All<ErrorReason>(), StringComparer.Ordinal);

    public BlobContainerClient Results => blobs.GetBlobContainerClient(names.ResultsContainer);

    public BlobContainerClient Jobs => blobs.GetBlobContainerClient(names.JobsContainer);

    /// <summary>The first 32 hex digits of the SHA-256 of a message body, as the services name rejection records.</summary>
    public static string BodyHash(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..32];

    /// <summary>True when <paramref name="text"/> is <c>reason: message</c> with a known error reason.</summary>
    public static bool IsReasoned(string? text) =>
        text is not null && text.IndexOf(": ", StringComparison.Ordinal) is > 0 and var colon && Reasons.Contains(text[..colon]) && text.Length > colon + 2;

    /// <summary>The job's status as the status API answers it (its status document plus the stripes still counting).</summary>
    public async Task<JobStatus?> JobStatusAsync(string jobId, CancellationToken cancellationToken) =>
        (await new JobStatusStore(blobs, Microsoft.Extensions.Options.Options.Create(names)).GetAsync(jobId, cancellationToken).ConfigureAwait(false))?.Status;

    /// <summary>Every row of the job's Parquet parts.</summary>
    public async Task<List<EmbeddingRow>> RowsAsync(string outputPrefix, CancellationToken cancellationToken)
    {
        var rows = new List<EmbeddingRow>();
        await foreach (var item in Results.GetBlobsAsync(BlobTraits.None, BlobStates.None, ResultsLayout.JobPartsFolder(outputPrefix), cancellationToken).ConfigureAwait(false))
        {
            using var stream = (await Results.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToStream();
            rows.AddRange(await ParquetTable.ReadAsync<EmbeddingRow>(stream, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    public async Task<bool> ExistsAsync(BlobContainerClient container, string name, CancellationToken cancellationToken) =>
        (await container.GetBlobClient(name).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The error record (<c>error.json</c>: a known <c>reason</c>, <paramref name="expected"/> when given, and a <c>message</c>) in <paramref name="folder"/>, or why there is none.</summary>
    public async Task<string?> ErrorRecordProblemAsync(string folder, string? expected, CancellationToken cancellationToken)
    {
        using var doc = await JsonAsync(Results, ResultsLayout.Error(folder), cancellationToken).ConfigureAwait(false);
        if (doc is null)
        {
            return $"no {names.ResultsContainer}/{ResultsLayout.Error(folder)}";
        }

        var reason = Text(doc.RootElement, "reason");
        var message = Text(doc.RootElement, "message");
        return reason is not null && Reasons.Contains(reason) && (expected is null || reason == expected) && !string.IsNullOrWhiteSpace(message)
            ? null
            : $"{names.ResultsContainer}/{ResultsLayout.Error(folder)} has reason '{reason}' and message '{message}'";
    }

    /// <summary>Null when the malformed message is recorded with a reason where the services record its kind; else what is missing.</summary>
    public async Task<string?> MalformedProblemAsync(MalformedMessage message, string messageId, IReadOnlyList<WorkerProcess> everyWorker, CancellationToken cancellationToken)
    {
        var poison = rawQueues.GetQueueClient(names.QueueName(message.Queue) + "-poison");
        var poisoned = await InPoisonQueueAsync(poison, message, cancellationToken).ConfigureAwait(false);
        if (message.Raw)
        {
            // The poison queue keeps only the body; the reason is the mover's log line, written before the move.
            return !poisoned ? $"not in {poison.Name}"
                : everyWorker.Any(w => w.Error.Contains($"message {messageId} goes to {poison.Name}: ", StringComparison.Ordinal)) ? null
                : $"in {poison.Name} but no worker logged why";
        }

        if (poisoned)
        {
            return $"in {poison.Name}: bad input must end in a record, never in a poison queue";
        }

        switch (message.Queue)
        {
            case WorkQueue.Shards:
                // Shard messages are the service's own; a bad one is logged and dropped, nothing is recorded.
                return everyWorker.Any(w => w.Error.Contains($"shard message {messageId}: ignored", StringComparison.Ordinal))
                    ? null : "no worker logged it as ignored";
            case WorkQueue.Jobs:
                if (message.Id is { } jobId && await JobStatusAsync(jobId, cancellationToken).ConfigureAwait(false) is { } status)
                {
                    return status.State == JobState.Failed && !string.IsNullOrWhiteSpace(status.Reason) && (message.Reason is null || status.Reason.StartsWith(message.Reason + ": ", StringComparison.Ordinal))
                        ? null : $"job {jobId} is {WireNames.Of(status.State)} with reason '{status.Reason}'";
                }

                using (var rejected = await JsonAsync(Jobs, ResultsLayout.RejectedJob(BodyHash(message.Body)), cancellationToken).ConfigureAwait(false))
                {
                    return rejected is null
                        ? $"no job status{(message.Id is null ? "" : $" of {message.Id}")} and no {names.JobsContainer}/{ResultsLayout.RejectedJob(BodyHash(message.Body))}"
                        : Reasons.Contains(Text(rejected.RootElement, "reason") ?? "") && !string.IsNullOrWhiteSpace(Text(rejected.RootElement, "message")) ? null : "the rejection record has no reason";
                }

            default:
                var prefix = message.Queue == WorkQueue.Edits ? EditService.DefaultPrefix : GenerateService.DefaultPrefix;
                var own = message.Id is { } requestId ? await ErrorRecordProblemAsync(ResultsLayout.RequestFolder(prefix, requestId), message.Reason, cancellationToken).ConfigureAwait(false) : "no request id";
                if (own is not null && message.Id is { } refusedId
                    && await ErrorRecordProblemAsync(ResultsLayout.RefusedRequestFolder(prefix, refusedId, BodyHash(message.Body)), message.Reason, cancellationToken).ConfigureAwait(false) is null)
                {
                    return null; // refused before it could write where it asked: recorded in the refusals folder
                }

                return own is null ? null : await ErrorRecordProblemAsync(ResultsLayout.RejectedRequestFolder(prefix, BodyHash(message.Body)), message.Reason, cancellationToken).ConfigureAwait(false) is null ? null : own;
        }
    }

    /// <summary>Whether <paramref name="message"/>'s body is in <paramref name="poison"/> (as sent: raw, or base64 of the text).</summary>
    private static async Task<bool> InPoisonQueueAsync(QueueClient poison, MalformedMessage message, CancellationToken cancellationToken)
    {
        if (!(await poison.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
        {
            return false;
        }

        var sent = message.Raw ? message.Body : Convert.ToBase64String(Encoding.UTF8.GetBytes(message.Body));
        return (await poison.PeekMessagesAsync(32, cancellationToken).ConfigureAwait(false)).Value.Any(peeked => peeked.Body.ToString() == sent);
    }

    /// <summary>Reads and deletes every message of the events queue (the run is over: nothing else reads it).</summary>
    public async Task<List<JsonDocument>> DrainEventsAsync(CancellationToken cancellationToken)
    {
        var queue = rawQueues.GetQueueClient(names.EventsQueue);
        var events = new List<JsonDocument>();
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false)).Value;
            if (batch.Length == 0)
            {
                return events;
            }

            foreach (var message in batch)
            {
                events.Add(JsonDocument.Parse(Convert.FromBase64String(message.Body.ToString())));
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static async Task<JsonDocument?> JsonAsync(BlobContainerClient container, string name, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient(name);
        try
        {
            var content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            return JsonDocument.Parse(content.ToMemory());
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }
}

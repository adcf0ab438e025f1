using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Inference;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Storage;

namespace Mage.Chaos;

/// <summary>
/// One chaos run (issue 12): starts an Azurite of its own on disk and <see cref="ChaosSettings.Workers"/>
/// real <c>mage worker</c> processes (tiny model, CPU, short leases), submits a bulk job with corrupt
/// images, good and malformed job, shard, edit and generation messages (the good ones several
/// times each) and an upload storm; kills workers mid-shard and restarts them, stops storage and
/// starts it again on the same data; waits until everything settles or stalls; then checks the
/// invariants, stops every worker with SIGINT or SIGTERM and returns the <see cref="ChaosReport"/>.
/// </summary>
/// <remarks>One run per instance. <paramref name="log"/> receives progress lines (any thread).</remarks>
internal sealed class ChaosRun(ChaosSettings settings, Action<string> log)
{
    /// <summary>What a worker logs when its storage calls start failing, and when they answer again (StorageOutage).</summary>
    private const string StorageDown = "Storage is not answering";

    private const string StorageBack = "Storage answers again";

    private const string Prefix = "chaos";
    private const string JobId = "chaos-job";
    private const int GoodRequests = 2;
    private const int ShardsDuplicated = 4;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private readonly List<WorkerProcess> everyWorker = [];
    private readonly Stopwatch clock = new();
    private WorkerProcess[] workers = [];
    private string connection = "";

    /// <summary>The src/Mage.Cli build output of the configuration this assembly was built in (bin/{Configuration}/net10.0/).</summary>
    public static string MageOutput => RepoPaths.Full($"src/Mage.Cli/bin/{new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name}/net10.0");

    /// <summary>Runs the scenario; <paramref name="logFolder"/>, when given, receives every worker's output.</summary>
    public async Task<ChaosReport> RunAsync(string? logFolder = null, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var report = new ChaosReport { Settings = settings };
        clock.Start();
        using var temp = new TempFolder();
        await using var azurite = await AzuriteServer.StartNewAsync(temp["azurite"], cancellationToken).ConfigureAwait(false);
        connection = azurite.ConnectionString;
        try
        {
            await RunScenarioAsync(azurite, report, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var worker in everyWorker)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }

            if (logFolder is not null)
            {
                Directory.CreateDirectory(logFolder);
                foreach (var worker in everyWorker)
                {
                    await File.WriteAllTextAsync(Path.Combine(logFolder, $"{worker.Name}.log"), worker.ToString(), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        report.WallSeconds = clock.Elapsed.TotalSeconds;
        return report;
    }

    /// <summary>The combined output of every worker process of the run, killed ones included.</summary>
    public string WorkerLogs() => string.Join("\n", everyWorker.Select(w => w.ToString()));

    private async Task RunScenarioAsync(AzuriteServer azurite, ChaosReport report, CancellationToken cancellationToken)
    {
        var environment = StorageNames.Environment(Prefix);
        environment["Mage__Storage__SourceContainers"] = $"{Prefix}-src"; // the run's images; the only container its messages may read

        // The job is listed two shards a page, a page per delivery of its message: shards run while it
        // is still listing, and kills and outages hit the listing's continuations too (issue 27).
        environment["Mage__Limits__ListPageSize"] = (2 * settings.ShardSize).ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Mage__Limits__ListPagesPerMessage"] = "1";
        environment["Mage__Limits__ListRanges"] = "3"; // the source's three folders, each listed by a range of its own
        var names = new StorageSettings
        {
            UploadsContainer = environment["Mage__Storage__UploadsContainer"],
            SourceContainers = environment["Mage__Storage__SourceContainers"],
            ResultsContainer = environment["Mage__Storage__ResultsContainer"],
            JobsContainer = environment["Mage__Storage__JobsContainer"],
            JobsQueue = environment["Mage__Storage__JobsQueue"],
            ShardsQueue = environment["Mage__Storage__ShardsQueue"],
            EditsQueue = environment["Mage__Storage__EditsQueue"],
            GenerateQueue = environment["Mage__Storage__GenerateQueue"],
            EventsQueue = environment["Mage__Storage__EventsQueue"],
        };

        // Few, quick retries: the run itself must notice an outage, not hang in its client.
        var blobOptions = new BlobClientOptions();
        var queueOptions = new QueueClientOptions();
        foreach (var retry in new RetryOptions[] { blobOptions.Retry, queueOptions.Retry })
        {
            retry.MaxRetries = 2;
            retry.NetworkTimeout = TimeSpan.FromSeconds(20);
        }

        var blobs = new BlobServiceClient(connection, blobOptions);
        var rawQueues = new QueueServiceClient(connection, queueOptions);
        var probe = new ChaosProbe(blobs, rawQueues, names);

        // The bulk job's source: good images and corrupt ones spread through it.
        var source = blobs.GetBlobContainerClient($"{Prefix}-src");
        await source.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var corruptEvery = settings.CorruptImages == 0 ? int.MaxValue : settings.Images / settings.CorruptImages;
        var corrupt = new HashSet<string>(StringComparer.Ordinal);
        var all = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Images), cancellationToken, async (i, ct) =>
        {
            var name = $"in/{i % 3}/img-{i:D4}.png"; // three virtual folders: the job is listed in three ranges
            var bad = i % corruptEvery == corruptEvery / 2 && i / corruptEvery < settings.CorruptImages;
            await source.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bad ? ChaosImages.Corrupt(i / corruptEvery) : ChaosImages.Good(i)), overwrite: true, ct).ConfigureAwait(false);
            lock (all)
            {
                all.Add(name);
                if (bad)
                {
                    corrupt.Add(name);
                }
            }
        }).ConfigureAwait(false);
        const string EditSource = "edit/src.png";
        const string EditCorrupt = "edit/corrupt.png";
        await source.GetBlobClient(EditSource).UploadAsync(BinaryData.FromBytes(ChaosImages.Good(77)), overwrite: true, cancellationToken).ConfigureAwait(false);
        await source.GetBlobClient(EditCorrupt).UploadAsync(BinaryData.FromBytes(ChaosImages.Corrupt(0)), overwrite: true, cancellationToken).ConfigureAwait(false);
        report.Images = settings.Images;
        report.CorruptImages = corrupt.Count;

        var mageDll = Path.Combine(MageOutput, "mage.dll");
        var tiny = Path.Combine(MageOutput, "models", "mage-tiny");
        if (!File.Exists(mageDll) || !Directory.Exists(tiny))
        {
            throw new InvalidOperationException($"{mageDll} or {tiny} is missing: build src/Mage.Cli in the same configuration first.");
        }

        string[] workerArgs = ["worker", "--lease", $"{settings.LeaseSeconds}", "--connection", connection, "--model", tiny, "--device", "cpu"];
        var generation = new int[settings.Workers];
        WorkerProcess StartWorker(int slot)
        {
            var name = generation[slot]++ == 0 ? $"w{slot + 1}" : $"w{slot + 1}.{generation[slot]}";
            var worker = WorkerProcess.Start(name, mageDll, environment, workerArgs);
            everyWorker.Add(worker);
            return worker;
        }

        workers = Enumerable.Range(0, settings.Workers).Select(StartWorker).ToArray();
        foreach (var worker in workers)
        {
            await WaitForLogAsync(worker, "Worker started", StartTimeout, cancellationToken).ConfigureAwait(false);
        }

        Log($"{settings.Workers} workers started");

        // The messages: every good one Duplicates times, the malformed ones once each.
        QueueClient Base64(WorkQueue queue) => new(connection, names.QueueName(queue), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var jobMessage = $$"""{ "jobId": "{{JobId}}", "source": { "container": "{{source.Name}}", "prefix": "in/" }, "shardSize": {{settings.ShardSize}} }""";
        var generates = Enumerable.Range(1, GoodRequests).Select(k => ($"good-g{k}", $$"""{ "requestId": "good-g{{k}}", "count": 1, "steps": 2, "seed": {{k}} }""")).ToList();
        var edits = Enumerable.Range(1, GoodRequests).Select(k => ($"good-e{k}",
            $$"""{ "requestId": "good-e{{k}}", "kind": "inpaint", "source": { "container": "{{source.Name}}", "name": "{{EditSource}}" }, "boxes": [[64, 64, 64, 64]], "steps": 2, "seed": {{k}} }""")).ToList();
        // Sent concurrently (the order does not matter to the services), so the faults start while the job is young.
        var good = Enumerable.Range(0, settings.Duplicates).SelectMany(_ =>
            new[] { (WorkQueue.Jobs, jobMessage) }.Concat(generates.Select(g => (WorkQueue.Generate, g.Item2))).Concat(edits.Select(e => (WorkQueue.Edits, e.Item2)))).ToList();
        var copies = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(good, cancellationToken, async (m, ct) => copies.Add((await Base64(m.Item1).SendMessageAsync(m.Item2, ct).ConfigureAwait(false)).Value.MessageId)).ConfigureAwait(false);
        report.DuplicateMessages = copies.Count - (1 + (2 * GoodRequests));
        var malformed = MalformedMessages.Take(settings.Malformed, source.Name, EditSource, EditCorrupt, JobId);
        var malformedIds = new string[malformed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, malformed.Count), cancellationToken, async (i, ct) =>
        {
            var message = malformed[i];
            var receipt = message.Raw
                ? await rawQueues.GetQueueClient(names.QueueName(message.Queue)).SendMessageAsync(message.Body, ct).ConfigureAwait(false)
                : await Base64(message.Queue).SendMessageAsync(message.Body, ct).ConfigureAwait(false);
            malformedIds[i] = receipt.Value.MessageId;
        }).ConfigureAwait(false);

        report.MalformedSent = malformed.Count;
        Log($"sent the job, {GoodRequests} generate and {GoodRequests} edit requests ×{settings.Duplicates}, {malformed.Count} malformed messages");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var storm = new UploadStorm(blobs.GetBlobContainerClient(names.UploadsContainer), settings.StormUploads, settings.CorruptUploads, TimeSpan.FromSeconds(settings.StormUploads * 0.5));
        var stormTask = storm.RunAsync(stop.Token);
        var shardCopies = DuplicateShardsAsync(probe, Base64(WorkQueue.Shards), copies, report, stop.Token);

        // Faults: kills mid-shard with restarts, then the storage outages.
        var lastFault = TimeSpan.Zero;
        var killedShards = new List<(WorkerProcess Victim, IReadOnlySet<string> Shards)>();
        for (var k = 0; k < settings.Kills; k++)
        {
            var (victim, held) = await PickVictimAsync(k, cancellationToken).ConfigureAwait(false);
            var midShard = held.Count > 0;
            var slot = Array.IndexOf(workers, victim);
            Rss(report, victim);
            victim.Signal("KILL");
            await victim.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            lastFault = clock.Elapsed;
            report.Kills++;
            killedShards.Add((victim, held));
            workers[slot] = StartWorker(slot);
            report.Restarts++;
            Log($"kill {k + 1}: {victim.Name} (pid {victim.Id}) {(midShard ? "mid-shard" : "not holding a shard")}; restarted as {workers[slot].Name}");
            await WaitForLogAsync(workers[slot], "Worker started", StartTimeout, cancellationToken).ConfigureAwait(false);
        }

        foreach (var seconds in settings.OutageSeconds)
        {
            var before = workers.ToDictionary(w => w, w => (Answered: w.Count(StorageBack), Noticed: w.Count(StorageDown)));
            await azurite.StopAsync(cancellationToken).ConfigureAwait(false);
            Log($"storage stopped for {seconds} s");
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            await azurite.RestartAsync(cancellationToken).ConfigureAwait(false);
            lastFault = clock.Elapsed;
            report.OutageSeconds.Add(seconds);
            var logAtRestart = workers.ToDictionary(w => w, w => w.Error.Length);
            foreach (var (worker, (answered, noticed)) in before)
            {
                if (worker.HasExited)
                {
                    report.Violation($"worker {worker.Name} exited during the {seconds} s outage with code {worker.ExitCode}");
                    var slot = Array.IndexOf(workers, worker);
                    workers[slot] = StartWorker(slot);
                    report.Restarts++;
                    continue;
                }

                // Resumed: it logged that storage answers again, or it never noticed the outage (its
                // poll loop was inside work whose storage calls retried through it) and has gone on working.
                bool Resumed() =>
                    worker.Count(StorageBack) > answered
                    || (worker.Count(StorageDown) == noticed && worker.Error.Length > logAtRestart[worker]);
                var resumed = Stopwatch.StartNew();
                while (!Resumed() && !worker.HasExited && resumed.Elapsed < StartTimeout)
                {
                    await Task.Delay(250, cancellationToken).ConfigureAwait(false);
                }

                if (!Resumed())
                {
                    report.Violation($"worker {worker.Name} did not resume within {StartTimeout.TotalSeconds} s of the {seconds} s outage (exited: {worker.HasExited})");
                }
            }

            Log($"storage back after {seconds} s; every worker {(report.Passed ? "resumed" : "checked")}");
        }

        await stormTask.ConfigureAwait(false);
        await shardCopies.ConfigureAwait(false);
        report.StormUploads = storm.Uploads;
        report.StormOverwrites = storm.Overwrites;
        report.StormDeletes = storm.Deletes;
        report.StormCorrupt = storm.CorruptUploads;
        Log($"storm done: {storm.Uploads} uploads ({storm.Overwrites} overwrites), {storm.Deletes} deletes; waiting for the work to settle");

        // No stuck work: wait while anything advances, fail as stuck when nothing does.
        var pending = await SettleAsync(probe, storm, generates.Concat(edits).Select(r => r.Item1).ToList(), malformed, malformedIds, report, cancellationToken).ConfigureAwait(false);
        report.RecoverySeconds = pending.Count == 0 ? Math.Max(0, (clock.Elapsed - lastFault).TotalSeconds) : null;
        foreach (var item in pending)
        {
            report.Violation($"stuck: {item}");
        }

        await CheckJobAsync(probe, all, corrupt, report, cancellationToken).ConfigureAwait(false);
        await CheckUploadsAsync(probe, storm, report, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < malformed.Count; i++)
        {
            if (await probe.MalformedProblemAsync(malformed[i], malformedIds[i], everyWorker, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                report.Violation($"malformed {WireNames.Of(malformed[i].Queue)} message ({malformed[i].What}) not recorded: {problem}");
            }
            else
            {
                report.MalformedRecorded++;
            }
        }

        var records = new List<string>();
        foreach (var (id, _) in generates.Select(g => (g.Item1, GenerateService.DefaultPrefix)).Concat(edits.Select(e => (e.Item1, EditService.DefaultPrefix))).Select(r => (ResultsLayout.RequestFolder(r.Item2, r.Item1), 0)))
        {
            var result = ResultsLayout.RequestResult(id);
            if (!await probe.ExistsAsync(probe.Results, result, cancellationToken).ConfigureAwait(false) || !await probe.ExistsAsync(probe.Results, ResultsLayout.RequestImage(id, 0), cancellationToken).ConfigureAwait(false))
            {
                report.Violation($"request {id} has no result.json and image-0.png");
            }

            records.Add($"{names.ResultsContainer}/{result}");
        }

        records.AddRange(storm.Final.Values.Select(b => $"{names.ResultsContainer}/{UploadRecordName(b)}"));
        await CheckEventsAsync(probe, records, report, cancellationToken).ConfigureAwait(false);
        await CheckFaultsHappenedAsync(killedShards, [.. copies], report, cancellationToken).ConfigureAwait(false);
        foreach (var worker in everyWorker.Where(w => w.Error.Contains("Unhandled exception", StringComparison.Ordinal)))
        {
            report.Violation($"worker {worker.Name} logged an unhandled exception");
        }

        await StopWorkersAsync(report).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Sends each of the first shards' messages again (Duplicates - 1 times) once the job has enqueued them.</summary>
    private async Task DuplicateShardsAsync(ChaosProbe probe, QueueClient shards, System.Collections.Concurrent.ConcurrentBag<string> copies, ChaosReport report, CancellationToken cancellationToken)
    {
        try
        {
            JobStatus? status = null;
            while (status is not { Enqueued: true })
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                try
                {
                    status = await probe.JobStatusAsync(JobId, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (StorageFailures.IsStorageFailure(e, cancellationToken))
                {
                    // an outage (the SDK's retries ran out): try again
                }
            }

            for (var n = 0; n < Math.Min(ShardsDuplicated, status.ShardsTotal); n++)
            {
                for (var copy = 1; copy < settings.Duplicates; copy++)
                {
                    while (true)
                    {
                        try
                        {
                            copies.Add((await shards.SendMessageAsync(JsonSerializer.Serialize(new ShardMessage(JobId, n)), cancellationToken).ConfigureAwait(false)).Value.MessageId);
                            break;
                        }
                        catch (Exception e) when (StorageFailures.IsStorageFailure(e, cancellationToken))
                        {
                            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    report.DuplicateMessages++;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A worker holding a shard now (waits for one), preferring slot <paramref name="k"/> onward, with
    /// the ids of the shard messages it holds; any live one (holding none) when no shard starts in time.
    /// </summary>
    private async Task<(WorkerProcess Worker, IReadOnlySet<string> Shards)> PickVictimAsync(int k, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StartTimeout)
        {
            for (var i = 0; i < workers.Length; i++)
            {
                var candidate = workers[(k + i) % workers.Length];
                if (!candidate.HasExited && candidate.HeldShards() is { Count: > 0 } held)
                {
                    return (candidate, held);
                }
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return (workers[k % workers.Length], new HashSet<string>());
    }

    /// <summary>
    /// The faults the run exists for happened, or the run proves nothing about them: a kill counts
    /// as mid-shard only when a shard message the victim held was started again (attempt 2 or
    /// later) by another worker, and at least one kill must be; every duplicate the settings ask
    /// for was sent, and every copy of a good message was delivered to a worker (it logged the
    /// message as started). Waits up to <see cref="StartTimeout"/> for late deliveries.
    /// </summary>
    private async Task CheckFaultsHappenedAsync(IReadOnlyList<(WorkerProcess Victim, IReadOnlySet<string> Shards)> killed, IReadOnlyList<string> copies, ChaosReport report, CancellationToken cancellationToken)
    {
        bool Redone((WorkerProcess Victim, IReadOnlySet<string> Shards) kill) =>
            kill.Shards.Any(id => everyWorker.Any(w => w != kill.Victim && w.Started(id, minAttempt: 2)));
        bool Delivered(string id) => everyWorker.Any(w => w.Started(id));
        var waited = Stopwatch.StartNew();
        while ((!killed.All(k => k.Shards.Count == 0 || Redone(k)) || !copies.All(Delivered)) && waited.Elapsed < StartTimeout)
        {
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
        }

        report.KillsMidShard = killed.Count(Redone);
        report.GoodMessagesSent = copies.Count;
        report.GoodMessagesDelivered = copies.Count(Delivered);
        if (settings.Kills > 0 && report.KillsMidShard == 0)
        {
            report.Violation($"none of the {report.Kills} kills hit a worker mid-shard (a shard message it held started again elsewhere): the run proved nothing about recovery from a crash");
        }

        var expected = settings.Duplicates > 1 ? (settings.Duplicates - 1) * (1 + (2 * GoodRequests) + Math.Min(ShardsDuplicated, (settings.Images + settings.ShardSize - 1) / settings.ShardSize)) : 0;
        if (report.DuplicateMessages < expected)
        {
            report.Violation($"{report.DuplicateMessages} duplicate messages sent, {expected} expected");
        }

        foreach (var id in copies.Where(id => !Delivered(id)))
        {
            report.Violation($"copy {id} of a good message was never delivered to a worker within {StartTimeout.TotalSeconds} s of the end");
        }
    }

    /// <summary>Waits until the job, the good requests, the storm's last versions and the malformed messages are all done; returns what is still pending when work stops advancing.</summary>
    private async Task<List<string>> SettleAsync(ChaosProbe probe, UploadStorm storm, IReadOnlyList<string> requests, IReadOnlyList<MalformedMessage> malformed, IReadOnlyList<string> malformedIds, ChaosReport report, CancellationToken cancellationToken)
    {
        var stalled = Stopwatch.StartNew();
        var settling = Stopwatch.StartNew();
        var (lastDone, lastImages) = (-1, -1L);
        while (true)
        {
            var pending = new List<string>();
            var status = await probe.JobStatusAsync(JobId, cancellationToken).ConfigureAwait(false);
            if (status?.State is not (JobState.Completed or JobState.Failed))
            {
                pending.Add($"job {JobId} is {(status is null ? "not created" : WireNames.Of(status.State))} ({status?.ImagesDone + status?.ImagesFailed ?? 0} of {settings.Images} images)");
            }
            else if (report.JobSeconds is null)
            {
                report.JobSeconds = clock.Elapsed.TotalSeconds;
            }

            foreach (var id in requests)
            {
                var folder = ResultsLayout.RequestFolder(id.StartsWith("good-g", StringComparison.Ordinal) ? GenerateService.DefaultPrefix : EditService.DefaultPrefix, id);
                if (!await probe.ExistsAsync(probe.Results, ResultsLayout.RequestResult(folder), cancellationToken).ConfigureAwait(false))
                {
                    pending.Add($"request {id} has no result");
                }
            }

            foreach (var blob in storm.Final.Values)
            {
                var folder = ResultsLayout.UploadFolder(blob.Name, blob.Etag, nameIsValid: true);
                if (!await probe.ExistsAsync(probe.Results, ResultsLayout.UploadRecord(folder), cancellationToken).ConfigureAwait(false)
                    && !await probe.ExistsAsync(probe.Results, ResultsLayout.Error(folder), cancellationToken).ConfigureAwait(false))
                {
                    pending.Add($"upload {blob.Name} ({blob.Etag}) has no record");
                }
            }

            for (var i = 0; i < malformed.Count; i++)
            {
                if (await probe.MalformedProblemAsync(malformed[i], malformedIds[i], everyWorker, cancellationToken).ConfigureAwait(false) is { } problem)
                {
                    pending.Add($"malformed {WireNames.Of(malformed[i].Queue)} message ({malformed[i].What}): {problem}");
                }
            }

            if (pending.Count == 0)
            {
                Log($"settled after {settling.Elapsed.TotalSeconds:F0} s");
                return pending;
            }

            var done = requests.Count + storm.Final.Count + malformed.Count + 1 - pending.Count;
            var images = status is null ? 0 : status.ImagesDone + status.ImagesFailed;
            if (done != lastDone || images != lastImages)
            {
                (lastDone, lastImages) = (done, images);
                stalled.Restart();
                Log($"settling: {pending.Count} pending, e.g. {pending[0]}");
            }

            if (stalled.Elapsed > settings.StallTimeout || settling.Elapsed > settings.SettleTimeout)
            {
                Log($"stuck after {settling.Elapsed.TotalSeconds:F0} s: {pending.Count} pending");
                return pending;
            }

            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every image of the job exactly once: good ones with an embedding, corrupt ones as an error row with a reason.</summary>
    private static async Task CheckJobAsync(ChaosProbe probe, IReadOnlyList<string> all, IReadOnlySet<string> corrupt, ChaosReport report, CancellationToken cancellationToken)
    {
        var status = await probe.JobStatusAsync(JobId, cancellationToken).ConfigureAwait(false);
        if (status?.State != JobState.Completed)
        {
            report.Violation($"job {JobId} ended {(status is null ? "never created" : WireNames.Of(status.State))}: {status?.Reason}");
            return;
        }

        if (!await probe.ExistsAsync(probe.Results, ResultsLayout.JobManifest(status.OutputPrefix!), cancellationToken).ConfigureAwait(false))
        {
            report.Violation($"job {JobId} is completed but has no manifest.json");
        }

        var rows = await probe.RowsAsync(status.OutputPrefix!, cancellationToken).ConfigureAwait(false);
        var byName = rows.GroupBy(r => r.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        report.RowsExpected = all.Count;
        report.RowsFound = byName.Keys.Count(all.Contains);
        report.RowsDuplicated = byName.Values.Sum(g => g.Count - 1);
        report.ErrorRows = rows.Count(r => r.Error is not null);
        foreach (var name in all.Where(n => !byName.ContainsKey(n)))
        {
            report.Violation($"image {name} has no row");
        }

        foreach (var (name, copies) in byName)
        {
            if (!all.Contains(name))
            {
                report.Violation($"row for {name}, which is not in the source");
            }
            else if (copies.Count > 1)
            {
                report.Violation($"image {name} has {copies.Count} rows");
            }
            else if (corrupt.Contains(name) && !ChaosProbe.IsReasoned(copies[0].Error))
            {
                report.Violation($"corrupt image {name} has no error with a reason (error: '{copies[0].Error}')");
            }
            else if (!corrupt.Contains(name) && (copies[0].Error is not null || copies[0].Embedding is not { Count: > 0 }))
            {
                report.Violation($"good image {name} was not embedded (error: '{copies[0].Error}')");
            }
        }

        if (status.ImagesDone + status.ImagesFailed != all.Count || status.ImagesFailed != corrupt.Count)
        {
            report.Violation($"job status counts {status.ImagesDone} done and {status.ImagesFailed} failed; expected {all.Count - corrupt.Count} and {corrupt.Count}");
        }
    }

    /// <summary>The last version of every stormed upload has one record: an embedding for a good image, an error with a reason for a corrupt one.</summary>
    private static async Task CheckUploadsAsync(ChaosProbe probe, UploadStorm storm, ChaosReport report, CancellationToken cancellationToken)
    {
        foreach (var blob in storm.Final.Values)
        {
            var folder = ResultsLayout.UploadFolder(blob.Name, blob.Etag, nameIsValid: true);
            var record = await probe.ExistsAsync(probe.Results, ResultsLayout.UploadRecord(folder), cancellationToken).ConfigureAwait(false);
            var error = await probe.ExistsAsync(probe.Results, ResultsLayout.Error(folder), cancellationToken).ConfigureAwait(false);
            report.UploadRecords += record ? 1 : 0;
            report.UploadErrors += error ? 1 : 0;
            if (record && error)
            {
                report.Violation($"upload {blob.Name} has both record.json and error.json in {folder}");
            }
            else if (blob.Corrupt && (!error || await probe.ErrorRecordProblemAsync(folder, null, cancellationToken).ConfigureAwait(false) is not null))
            {
                report.Violation($"corrupt upload {blob.Name} has no error record with a reason in {folder}");
            }
            else if (!blob.Corrupt && (!record || !await probe.ExistsAsync(probe.Results, ResultsLayout.UploadEmbedding(folder), cancellationToken).ConfigureAwait(false)))
            {
                report.Violation($"good upload {blob.Name} has no record.json and embedding.npy in {folder}");
            }
        }
    }

    /// <summary>
    /// One event id per completion (a completion is an event type, subject and record; copies of
    /// one id are allowed and counted), and an event for each record the run expects.
    /// </summary>
    private static async Task CheckEventsAsync(ChaosProbe probe, IReadOnlyList<string> records, ChaosReport report, CancellationToken cancellationToken)
    {
        var events = await probe.DrainEventsAsync(cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var completions = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var outputs = new HashSet<string>(StringComparer.Ordinal);
        var jobCompleted = 0;
        foreach (var e in events)
        {
            var root = e.RootElement;
            var id = ChaosProbe.Text(root, "id") ?? "";
            var type = ChaosProbe.Text(root, "type") ?? "";
            var data = root.TryGetProperty("data", out var d) ? d : default;
            var paths = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Array
                ? o.EnumerateArray().Select(p => p.GetString() ?? "").ToList() : [];
            var record = paths.FirstOrDefault(p => p.EndsWith(".json", StringComparison.Ordinal)) ?? "";
            var key = $"{type}\n{ChaosProbe.Text(root, "subject")}\n{record}";
            ids.Add(id);
            outputs.UnionWith(paths);
            if (!completions.TryGetValue(key, out var keyIds))
            {
                completions[key] = keyIds = new HashSet<string>(StringComparer.Ordinal);
            }

            keyIds.Add(id);
            jobCompleted += type == "mage.job.completed" && ChaosProbe.Text(data, "jobId") == JobId ? 1 : 0;
            e.Dispose();
        }

        report.Events = events.Count;
        report.EventIds = ids.Count;
        report.EventCopies = events.Count - ids.Count;
        foreach (var (key, keyIds) in completions.Where(c => c.Value.Count > 1))
        {
            report.Violation($"completion '{key.Replace('\n', ' ')}' was published with {keyIds.Count} ids");
        }

        if (jobCompleted == 0)
        {
            report.Violation($"no mage.job.completed event for {JobId}");
        }

        foreach (var record in records.Where(r => !outputs.Contains(r) && !outputs.Contains(r.Replace("/record.json", "/error.json", StringComparison.Ordinal))))
        {
            report.Violation($"no event names {record}");
        }
    }

    /// <summary>Reads every worker's peak RSS, then stops them with SIGINT and SIGTERM alternately; each must exit 0.</summary>
    private async Task StopWorkersAsync(ChaosReport report)
    {
        for (var i = 0; i < workers.Length; i++)
        {
            var worker = workers[i];
            if (worker.HasExited)
            {
                report.Violation($"worker {worker.Name} had exited before the end (code {worker.ExitCode})");
                continue;
            }

            Rss(report, worker);
            worker.Signal(i % 2 == 0 ? "INT" : "TERM");
        }

        for (var i = 0; i < workers.Length; i++)
        {
            var worker = workers[i];
            var code = await worker.WaitForExitAsync(StopTimeout).ConfigureAwait(false);
            report.ExitCodes[worker.Name] = code ?? -1;
            if (code != 0)
            {
                report.Violation($"worker {worker.Name} {(code is null ? $"did not exit within {StopTimeout.TotalSeconds} s of" : $"exited {code} on")} SIG{(i % 2 == 0 ? "INT" : "TERM")}");
            }
        }
    }

    private static void Rss(ChaosReport report, WorkerProcess worker)
    {
        if (worker.PeakRssBytes() is { } bytes)
        {
            report.PeakRssMiB[worker.Name] = Math.Round(bytes / 1048576.0, 1);
        }
    }

    private static string UploadRecordName(StormBlob blob)
    {
        var folder = ResultsLayout.UploadFolder(blob.Name, blob.Etag, nameIsValid: true);
        return blob.Corrupt ? ResultsLayout.Error(folder) : ResultsLayout.UploadRecord(folder);
    }

    private static async Task WaitForLogAsync(WorkerProcess worker, string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (!worker.Error.Contains(text, StringComparison.Ordinal))
        {
            if (worker.HasExited || waited.Elapsed > timeout)
            {
                throw new InvalidOperationException($"worker {worker.Name} did not log '{text}' within {timeout.TotalSeconds} s (exited: {worker.HasExited})\n{worker}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Log(string line) => log(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F1} s] {line}"));
}

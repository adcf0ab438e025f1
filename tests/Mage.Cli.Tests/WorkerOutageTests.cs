using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Mage.Cli.Tests;

/// <summary>
/// A real <c>mage worker</c> process against its own Azurite, which the test stops for
/// <see cref="Outage"/> and restarts on the same data: the worker must not exit, must say once that
/// storage is gone and again when it is back, and must then process a new message. Before the
/// fix the first failed poll escaped the loop and aborted the process (exit 134).
/// </summary>
public sealed class WorkerOutageTests : IDisposable
{
    /// <summary>As in the reliability report: 20 s without storage killed one worker in three.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Generous: the worker's next try comes at most 30 s (its longest backoff) after storage is back.</summary>
    private static readonly TimeSpan ResumeTimeout = TimeSpan.FromSeconds(90);

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Worker_outlives_a_storage_outage_and_processes_messages_after_it()
    {
        await using var azurite = await AzuriteServer.StartNewAsync(temp["azurite"]);
        await using var worker = MageProcess.Start(
            new Dictionary<string, string>(),
            "worker", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");
        await worker.WaitForErrorAsync("Worker started", StartTimeout);

        var down = Stopwatch.StartNew();
        await azurite.StopAsync();
        await worker.WaitForErrorAsync("Storage is not answering", Outage);
        if (Outage - down.Elapsed is { Ticks: > 0 } rest)
        {
            await Task.Delay(rest);
        }

        Assert.False(worker.HasExited, $"the worker exited during the outage\n{worker}");
        await azurite.RestartAsync();

        // The queue the worker created before the outage is still there: the same data came back.
        var queue = new QueueClient(azurite.ConnectionString, "mage-generate", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.SendMessageAsync("""{ "requestId": "after-outage", "count": 1, "steps": 2, "seed": 3 }""");
        var result = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("results").GetBlobClient("generate/after-outage/result.json");
        var resumed = Stopwatch.StartNew();
        while (!(await result.ExistsAsync()).Value)
        {
            Assert.False(worker.HasExited, $"the worker exited after the outage\n{worker}");
            Assert.True(resumed.Elapsed < ResumeTimeout, $"no result within {ResumeTimeout.TotalSeconds} s of storage coming back\n{worker}");
            await Task.Delay(250);
        }

        await worker.WaitForErrorAsync("Storage answers again", ResumeTimeout);
        Assert.Single(worker.Error.Split('\n'), line => line.Contains("Storage is not answering", StringComparison.Ordinal));
        worker.Signal("INT");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}

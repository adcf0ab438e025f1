using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Mage.Cli.Worker;

namespace Mage.Cli.Tests;

/// <summary>
/// SIGINT and SIGTERM sent to a real <c>mage</c> process: the worker stops taking messages,
/// releases the one it holds and exits 0; the other commands cancel with exit 130. Before the fix
/// both ended in SIGABRT (exit 134) and SIGTERM killed the worker with its message still hidden.
/// The worker uses its own container and queue names (Mage__Storage__* settings), so it never
/// touches what the other tests of the collection put in the shared Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkerSignalTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string> Names = StorageNames.Environment("sig");

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private MageProcess StartWorker() =>
        MageProcess.Start(Names, "worker", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_stops_an_idle_worker_with_exit_0(string signal)
    {
        await using var worker = StartWorker();
        await worker.WaitForErrorAsync("Worker started", StartTimeout);

        worker.Signal(signal);
        var code = await worker.WaitForExitAsync(StopTimeout);

        Assert.True(code == 0, $"exit {code}\n{worker}");
        Assert.Contains("mage worker: stopped.", worker.Error);
        Assert.DoesNotContain("Unhandled exception", worker.Error);
        Assert.Contains("Worker done: nothing to do.", worker.Out);
    }

    [Fact]
    public async Task Sigterm_makes_the_message_in_flight_visible_again_and_exits_0()
    {
        var queue = new QueueClient(azurite.ConnectionString, "sig-generate", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        await queue.ClearMessagesAsync();
        const string RequestId = "sig-in-flight";

        // 64 images of 64 steps keep the tiny model busy for tens of seconds, and the signal comes
        // as soon as the worker logs the message started: the work cannot finish first. The lease is
        // the longest there is, so a message that is visible again within the test was released,
        // not left to lapse.
        var sent = (await queue.SendMessageAsync($$"""{ "requestId": "{{RequestId}}", "count": 64, "steps": 64, "seed": 9 }""")).Value;
        await using var worker = MageProcess.Start(Names, "worker", "--lease", $"{WorkerDefaults.MaxLeaseSeconds}", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");
        await worker.WaitForErrorAsync($"message {sent.MessageId} started (attempt 1)", StartTimeout);
        var received = System.Diagnostics.Stopwatch.StartNew();

        worker.Signal("TERM");
        var code = await worker.WaitForExitAsync(StopTimeout);
        var visible = (await queue.PeekMessagesAsync(1)).Value;
        var hiddenFor = received.Elapsed;

        Assert.True(code == 0, $"exit {code}\n{worker}");
        Assert.Contains("mage worker: stopped.", worker.Error);
        var resultWritten = await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("sig-results")
            .GetBlobClient($"generate/{RequestId}/result.json").ExistsAsync();
        Assert.False(resultWritten.Value, $"the work finished before the signal: the test shows nothing about the release\n{worker}");

        // Released: the same message, received once, is visible again long before its lease would have lapsed.
        Assert.True(hiddenFor < TimeSpan.FromSeconds(WorkerDefaults.MaxLeaseSeconds), $"{hiddenFor.TotalSeconds:F0} s passed: the lease could have lapsed");
        var message = Assert.Single(visible);
        Assert.Equal(sent.MessageId, message.MessageId);
        Assert.Equal(1, message.DequeueCount);
        await queue.ClearMessagesAsync();
    }

    [Fact]
    public async Task Sigint_cancels_another_command_with_exit_130()
    {
        await using var generate = MageProcess.Start(
            new Dictionary<string, string>(),
            "generate", "--count", "64", "--steps", "64", "--seed", "1", "--out", temp["out"], "--model", Cli.TinyPackage, "--device", "cpu");
        await generate.WaitForErrorAsync("seeded random weights", StartTimeout);

        generate.Signal("INT");
        var code = await generate.WaitForExitAsync(StopTimeout);

        Assert.True(code == ExitCodes.Cancelled, $"exit {code}\n{generate}");
        Assert.Contains("cancelled", generate.Error);
        Assert.DoesNotContain("Unhandled exception", generate.Error);
    }
}

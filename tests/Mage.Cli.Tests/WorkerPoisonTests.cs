using Azure.Storage.Queues;

namespace Mage.Cli.Tests;

/// <summary>
/// The poison queue keeps only a message's body, so <c>mage worker</c> logs why it moves one before
/// it moves it: a worker killed between the move and a log line written after it (the chaos
/// suite caught one under <c>kill -9</c>) left an entry no log explained. Here the move itself
/// fails (the generation queue's name is so long that <c>{queue}-poison</c> is not a valid queue
/// name), which must still leave its reason in the log.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkerPoisonTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_reason_for_the_poison_queue_is_logged_even_when_the_move_does_not_happen()
    {
        var generate = "poison-" + new string('g', 56); // 63 characters: the longest queue name; "-poison" makes it invalid
        var names = StorageNames.Environment("poison");
        names["Mage__Storage__GenerateQueue"] = generate;
        var queue = new QueueClient(azurite.ConnectionString, generate);
        await queue.CreateIfNotExistsAsync();
        var sent = (await queue.SendMessageAsync("not base64 at all!")).Value;

        await using var worker = MageProcess.Start(names, "worker", "--once", "--lease", "5", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");
        var code = await worker.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(code == 0, $"exit {code}\n{worker}");
        Assert.Contains($"generate message {sent.MessageId} goes to {generate}-poison: the message is not base64", worker.Error);
        Assert.Contains($"generate message {sent.MessageId}: move to {generate}-poison failed", worker.Error);
    }
}

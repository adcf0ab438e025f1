using Mage.Chaos;

namespace Mage.Cli.Tests;

/// <summary>
/// The bounded chaos run of issue 12 (<see cref="ChaosSettings.Bounded"/>: 3 workers, 96 images
/// with 4 corrupt, 2 kills mid-shard, storage outages of 20 s and 60 s, every good message 3×,
/// 50 malformed messages, a storm of 40 uploads): every invariant must hold. The run owns its
/// Azurite and its worker processes, so it shares nothing with the other tests; it takes a few
/// minutes. tests/chaos/run.sh runs the same suite longer.
/// </summary>
public sealed class ChaosSuiteTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Bounded_chaos_run_keeps_every_invariant()
    {
        var run = new ChaosRun(ChaosSettings.Bounded, output.WriteLine);

        var report = await run.RunAsync();

        output.WriteLine(report.ToMarkdown());
        output.WriteLine(report.ToJson());
        if (!report.Passed)
        {
            output.WriteLine(run.WorkerLogs());
        }

        Assert.True(report.Passed, string.Join("\n", report.Violations));

        // The faults the run exists for happened (ChaosRun enforces this too; here it cannot be lost in a refactoring of the run).
        Assert.True(report.KillsMidShard >= 1, $"no kill hit a worker mid-shard: {report.Kills} kills, {report.KillsMidShard} mid-shard");
        Assert.True(report.DuplicateMessages > 0 && report.GoodMessagesDelivered == report.GoodMessagesSent, $"duplicates sent {report.DuplicateMessages}; good messages delivered {report.GoodMessagesDelivered} of {report.GoodMessagesSent}");
    }
}

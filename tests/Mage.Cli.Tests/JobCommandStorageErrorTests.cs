namespace Mage.Cli.Tests;

/// <summary>
/// <c>mage job status</c> and <c>mage job submit</c> when storage fails: exit 1 with a
/// <c>storage:</c> message and no stack trace (docs/cli.md, Exit codes). Before the fix a 503 from
/// the status API crashed <c>job status</c> with an InvalidCastException, and <c>job submit</c>
/// exited 2 as if the command line were wrong. Real processes, since the API's deadline is a
/// <c>Mage__Limits__*</c> setting; the outage tests stop an Azurite of their own.
/// </summary>
public sealed class JobCommandStorageErrorTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Status_during_an_outage_exits_1_with_a_storage_message()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        await azurite.StopAsync();

        // A short API deadline: the status API answers 503 before the SDK's retries give up.
        var run = await RunAsync(new() { ["Mage__Limits__ApiTimeoutSeconds"] = "2" }, "job", "status", "job-1", "--connection", azurite.ConnectionString);

        // The API's own 503 (the answer that crashed the command), naming the job.
        AssertStorageFailure(run);
        Assert.Contains("storage: 503", run.Error, StringComparison.Ordinal);
        Assert.Contains("job-1", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_during_an_outage_exits_1_with_a_storage_message()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        await azurite.StopAsync();

        var run = await RunAsync([], "job", "submit", "--prefix", "", "--source-container", "src", "--job-id", "job-1", "--connection", azurite.ConnectionString);

        AssertStorageFailure(run);
    }

    private static void AssertStorageFailure(CliRun run)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("storage:", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    private static async Task<CliRun> RunAsync(Dictionary<string, string> environment, params string[] args)
    {
        await using var mage = MageProcess.Start(environment, args);
        var code = await mage.WaitForExitAsync(RunTimeout);
        return new CliRun(code, mage.Out, mage.Error);
    }
}

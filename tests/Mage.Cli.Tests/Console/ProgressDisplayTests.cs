using Mage.Cli.Console;
using Mage.Inference.Engine;

namespace Mage.Cli.Tests.Console;

/// <summary>The plain-line progress display (what tests, files and pipes see).</summary>
public sealed class ProgressDisplayTests
{
    [Fact]
    public async Task The_total_can_come_from_the_reports()
    {
        using var stderr = new StringWriter();
        var display = ProgressDisplay.For(stderr, interactive: false);

        var result = await display.RunAsync("Working", progress =>
        {
            for (var done = 1; done <= 20; done++)
            {
                progress.Report(new StepProgress(done, 20));
            }

            return Task.FromResult(7);
        });

        Assert.Equal(7, result);
        Assert.Equal(Enumerable.Range(1, 10).Select(tenth => $"Working: {tenth * 2}/20"), Lines(stderr));
    }

    [Fact]
    public async Task A_total_given_up_front_still_works_and_late_reports_never_go_back()
    {
        using var stderr = new StringWriter();
        var display = ProgressDisplay.For(stderr, interactive: false);

        await display.RunAsync("Files", 4, progress =>
        {
            progress.Report(2);
            progress.Report(1);
            progress.Report(4);
            return Task.FromResult(true);
        });

        Assert.Equal(["Files: 2/4", "Files: 4/4"], Lines(stderr));
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
}

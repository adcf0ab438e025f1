using Mage.Chaos;

// mage-chaos [--long] [--out FOLDER]: runs the chaos suite (ChaosSettings.Bounded, or Long) and
// writes report.json, report.md and the workers' logs into FOLDER; exit 1 when an invariant fails.
var settings = args.Contains("--long") ? ChaosSettings.Long : ChaosSettings.Bounded;
var at = Array.IndexOf(args, "--out");
var folder = at >= 0 && at + 1 < args.Length ? args[at + 1] : Path.Combine(Path.GetTempPath(), $"mage-chaos-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var run = new ChaosRun(settings, Console.WriteLine);
var report = await run.RunAsync(Path.Combine(folder, "logs"), cancel.Token);
await report.WriteAsync(folder);
Console.WriteLine(report.ToMarkdown());
Console.WriteLine($"report: {folder}");
return report.Passed ? 0 : 1;

using Mage.Inference.Engine;
using Spectre.Console;

namespace Mage.Cli.Console;

/// <summary>
/// Shows how far long work has got, on stderr so stdout stays clean for pipes: a Spectre.Console
/// bar on an interactive terminal, otherwise a plain line at every tenth of the work.
/// </summary>
internal abstract class ProgressDisplay
{
    /// <summary>Picks the bar for an interactive terminal and plain lines for anything else (files, pipes, tests).</summary>
    public static ProgressDisplay For(TextWriter stderr, bool interactive) =>
        interactive ? new BarProgressDisplay() : new LineProgressDisplay(stderr);

    /// <summary>Runs <paramref name="work"/>, which reports how many of <paramref name="total"/> units are done.</summary>
    public Task<T> RunAsync<T>(string description, long total, Func<IProgress<long>, Task<T>> work) =>
        RunCoreAsync(description, total, reporter => work(reporter));

    /// <summary>
    /// Runs <paramref name="work"/>, whose reports carry the total along with the steps done (the
    /// engine's <see cref="StepProgress"/>), so the caller need not work out the total up front.
    /// </summary>
    public Task<T> RunAsync<T>(string description, Func<IProgress<StepProgress>, Task<T>> work) =>
        RunCoreAsync(description, 0, reporter => work(reporter));

    /// <summary>Shows the progress of <paramref name="work"/>; <paramref name="total"/> is 0 until a report carries one.</summary>
    protected abstract Task<T> RunCoreAsync<T>(string description, long total, Func<MonotonicReporter, Task<T>> work);

    /// <summary>
    /// Keeps the largest count reported, since reports from concurrent workers may arrive out of
    /// order, and the latest total; passes both on whenever the count grows.
    /// </summary>
    protected sealed class MonotonicReporter(long total, Action<long, long> onAdvance) : IProgress<long>, IProgress<StepProgress>
    {
        private readonly Lock gate = new();
        private long done;
        private long latestTotal = total;

        public void Report(long value) => Advance(value, null);

        public void Report(StepProgress value) => Advance(value.Done, value.Total);

        private void Advance(long value, long? newTotal)
        {
            lock (gate)
            {
                latestTotal = newTotal ?? latestTotal;
                if (value <= done)
                {
                    return;
                }

                done = value;
                onAdvance(value, latestTotal);
            }
        }
    }

    private sealed class LineProgressDisplay(TextWriter stderr) : ProgressDisplay
    {
        protected override async Task<T> RunCoreAsync<T>(string description, long total, Func<MonotonicReporter, Task<T>> work)
        {
            var lastTenth = 0L;
            var reporter = new MonotonicReporter(total, (done, all) =>
            {
                var tenth = all <= 0 ? 10 : done * 10 / all;
                if (tenth > lastTenth)
                {
                    lastTenth = tenth;
                    stderr.WriteLine($"{description}: {done}/{all}");
                }
            });
            return await work(reporter);
        }
    }

    private sealed class BarProgressDisplay : ProgressDisplay
    {
        protected override Task<T> RunCoreAsync<T>(string description, long total, Func<MonotonicReporter, Task<T>> work)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
            return console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                    var result = await work(new MonotonicReporter(total, (done, all) =>
                    {
                        task.MaxValue = Math.Max(all, 1);
                        task.Value = done;
                    }));
                    task.Value = task.MaxValue;
                    return result;
                });
        }
    }
}

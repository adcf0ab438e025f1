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
    public abstract Task<T> RunAsync<T>(string description, long total, Func<IProgress<long>, Task<T>> work);

    /// <summary>Keeps the largest count reported; reports from concurrent workers may arrive out of order.</summary>
    private sealed class MonotonicReporter(Action<long> onAdvance) : IProgress<long>
    {
        private readonly Lock gate = new();
        private long done;

        public void Report(long value)
        {
            lock (gate)
            {
                if (value <= done)
                {
                    return;
                }

                done = value;
                onAdvance(value);
            }
        }
    }

    private sealed class LineProgressDisplay(TextWriter stderr) : ProgressDisplay
    {
        public override async Task<T> RunAsync<T>(string description, long total, Func<IProgress<long>, Task<T>> work)
        {
            var lastTenth = 0L;
            var reporter = new MonotonicReporter(done =>
            {
                var tenth = total <= 0 ? 10 : done * 10 / total;
                if (tenth > lastTenth)
                {
                    lastTenth = tenth;
                    stderr.WriteLine($"{description}: {done}/{total}");
                }
            });
            return await work(reporter);
        }
    }

    private sealed class BarProgressDisplay : ProgressDisplay
    {
        public override Task<T> RunAsync<T>(string description, long total, Func<IProgress<long>, Task<T>> work)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });
            return console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                    var result = await work(new MonotonicReporter(done => task.Value = done));
                    task.Value = task.MaxValue;
                    return result;
                });
        }
    }
}

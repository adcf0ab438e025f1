using System.Diagnostics;
using System.Text;

namespace Mage.Cli.Tests;

/// <summary>
/// <c>mage</c> as a real child process (<c>dotnet mage.dll</c> from the src/Mage.Cli build output),
/// for what an in-process run cannot show: signals, exit codes set by the runtime, a process that
/// must outlive an outage. Collects stdout and stderr; kills the process on dispose if it is still
/// running. One test drives it.
/// </summary>
internal sealed class MageProcess : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();

    private MageProcess(Process process)
    {
        this.process = process;
    }

    public bool HasExited => process.HasExited;

    /// <summary>Everything written to stderr so far.</summary>
    public string Error
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>Everything written to stdout so far.</summary>
    public string Out
    {
        get
        {
            lock (stdout)
            {
                return stdout.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>mage</c> with <paramref name="args"/> and <paramref name="environment"/> added to
    /// this process's environment. It runs under <c>env --default-signal</c>: a test host started
    /// with SIGINT ignored (a background job of a script) would otherwise hand that on, and a
    /// process that inherits an ignored SIGINT never sees one.
    /// </summary>
    public static MageProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--default-signal=INT,TERM", "dotnet", Path.Combine(Cli.BuildOutput, "mage.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start mage.");
        var mage = new MageProcess(process);
        process.OutputDataReceived += (_, e) => Append(mage.stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(mage.stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return mage;
    }

    /// <summary>Waits until stderr contains <paramref name="text"/>; fails if the process exits first or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForErrorAsync(string text, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (!Error.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                Assert.Fail($"mage exited before writing '{text}'.\n{this}");
            }

            if (waited.Elapsed > timeout)
            {
                Assert.Fail($"mage did not write '{text}' within {timeout.TotalSeconds} s.\n{this}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Sends a POSIX signal (<c>INT</c>, <c>TERM</c>) to mage.</summary>
    public void Signal(string name) => ProcessSignals.Send(process.Id, name);

    /// <summary>Waits for mage to exit and returns its exit code (128 + n when a signal n ended it); fails after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"mage did not exit within {timeout.TotalSeconds} s.\n{this}");
        }

        return process.ExitCode;
    }

    public override string ToString() => $"exited: {process.HasExited}\n--- stdout\n{Out}\n--- stderr\n{Error}";

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mage.Chaos;

/// <summary>
/// One real <c>mage worker</c> child process (<c>env --default-signal dotnet mage.dll worker …</c>,
/// as the CLI tests start it: a parent that ignores SIGINT would otherwise hand that on). Keeps
/// everything it writes, tells whether it holds a shard message right now, reads its peak RSS and
/// sends it signals. Log reads are thread-safe; one run drives the process.
/// </summary>
internal sealed partial class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();

    private WorkerProcess(Process process, string name)
    {
        this.process = process;
        Name = name;
        Id = process.Id;
    }

    /// <summary>The run's name for it, e.g. <c>w1</c> or <c>w1.2</c> after a restart.</summary>
    public string Name { get; }

    /// <summary>The process id, kept after the process is gone (for the logs).</summary>
    public int Id { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public string Error => Read(stderr);

    public string Out => Read(stdout);

    /// <summary>Starts <c>dotnet {mageDll} {args}</c> with <paramref name="environment"/> added.</summary>
    public static WorkerProcess Start(string name, string mageDll, IReadOnlyDictionary<string, string> environment, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["--default-signal=INT,TERM", "dotnet", mageDll, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start mage.");
        var worker = new WorkerProcess(process, name);
        process.OutputDataReceived += (_, e) => Append(worker.stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(worker.stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>The ids of the shard messages it logged as started and not as ended.</summary>
    public IReadOnlySet<string> HeldShards()
    {
        var open = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Error.Split('\n'))
        {
            if (ShardStarted().Match(line) is { Success: true } started)
            {
                open.Add(started.Groups[1].Value);
            }
            else if (ShardEnded().Match(line) is { Success: true } ended)
            {
                open.Remove(ended.Groups[1].Value);
            }
        }

        return open;
    }

    /// <summary>
    /// True when it logged that message <paramref name="messageId"/> started, at attempt
    /// <paramref name="minAttempt"/> or later.
    /// </summary>
    public bool Started(string messageId, int minAttempt = 1) =>
        Regex.Matches(Error, $@"message {Regex.Escape(messageId)} started \(attempt (\d+)\)")
            .Any(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= minAttempt);

    /// <summary>How often stderr contains <paramref name="text"/>.</summary>
    public int Count(string text)
    {
        var log = Error;
        var (n, at) = (0, 0);
        while ((at = log.IndexOf(text, at, StringComparison.Ordinal)) >= 0)
        {
            n++;
            at += text.Length;
        }

        return n;
    }

    /// <summary>The peak resident set size in bytes (VmHWM of /proc/{pid}/status), or null once the process is gone.</summary>
    public long? PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // exited meanwhile
        }

        return null;
    }

    /// <summary>Sends a POSIX signal (<c>KILL</c>, <c>INT</c>, <c>TERM</c>).</summary>
    public void Signal(string signal) => ProcessSignals.Send(Id, signal);

    /// <summary>Waits up to <paramref name="timeout"/> for the exit; returns the exit code, or null when it is still running.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public override string ToString() => $"--- {Name} (pid {Id}) stdout\n{Out}\n--- {Name} stderr\n{Error}";

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        process.Dispose();
    }

    private static string Read(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
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

    [GeneratedRegex(@"shard message (\S+) started \(attempt")]
    private static partial Regex ShardStarted();

    [GeneratedRegex(@"shard message (\S+)(?:: \w+ in| deferred| failed| moved to)")]
    private static partial Regex ShardEnded();
}

using System.Diagnostics;

namespace Mage.TestSupport;

/// <summary>
/// Sends POSIX signals to processes with the system's <c>kill</c> command (Linux and macOS; the
/// tests that use it run there). <see cref="Process.Kill()"/> is SIGKILL, which no process can
/// handle, so a graceful stop needs this. Thread-safe.
/// </summary>
public static class ProcessSignals
{
    /// <summary>Sends <paramref name="signal"/> (a name such as <c>INT</c> or <c>TERM</c>) to the process <paramref name="processId"/>.</summary>
    /// <exception cref="InvalidOperationException"><c>kill</c> failed, for example because the process is gone.</exception>
    public static void Send(int processId, string signal)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signal);
        var start = new ProcessStartInfo("kill") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-s");
        start.ArgumentList.Add(signal);
        start.ArgumentList.Add(processId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var kill = Process.Start(start) ?? throw new InvalidOperationException("Could not start kill.");
        var error = kill.StandardError.ReadToEnd();
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -s {signal} {processId} exited with {kill.ExitCode}: {error.Trim()}");
        }
    }
}

using System.Diagnostics;

namespace Mage.Inference.Tests.Numpy;

/// <summary>Runs the system Python (with numpy) to produce and check interop fixtures.</summary>
internal static class Python
{
    public const string Path = "/usr/bin/python3";

    /// <summary>
    /// How long a script may run: an export of the tiny model takes about 20 s on 2 busy cores, an
    /// int8 one 3 to 7 minutes (calibrating and choosing the int8 convolutions in PyTorch).
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(900);

    public static bool IsAvailable => File.Exists(Path);

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/> as sys.argv[1:]; returns stdout or throws with stderr.</summary>
    public static string Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Path}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            throw new TimeoutException($"{Path} did not finish within {Timeout.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path} exited with {process.ExitCode}.\nstdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        }

        return stdout.Result;
    }
}

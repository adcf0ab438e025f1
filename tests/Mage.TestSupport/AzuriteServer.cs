using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mage.TestSupport;

/// <summary>
/// One real Azurite process (blob and queue) from tools/azurite on free loopback ports, keeping its
/// data in memory or, with a location folder, on disk. <see cref="StopAsync"/> and
/// <see cref="RestartAsync"/> take it away and bring it back on the same ports and folder, so a test
/// can cut storage off from a running client. Owns the process; one test or fixture drives it
/// (not thread-safe). test.sh installs Azurite with <c>npm ci --prefix tools/azurite</c>.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known account key (of <c>devstoreaccount1</c>).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly string script;
    private readonly string? location;
    private readonly int blobPort = FreePort();
    private readonly int queuePort = FreePort();
    private readonly int tablePort = FreePort();
    private Process? process;

    private AzuriteServer(string script, string? location)
    {
        this.script = script;
        this.location = location;
        ConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
                           $"AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
                           $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;";
    }

    /// <summary>The connection string of the account; the same across restarts.</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Starts Azurite and returns once both ports listen. With <paramref name="location"/> its data
    /// lives in that folder and survives <see cref="StopAsync"/>; without, in memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">Azurite is not installed or exits before listening.</exception>
    public static async Task<AzuriteServer> StartNewAsync(string? location = null, CancellationToken cancellationToken = default)
    {
        var script = Path.Combine(RepoPaths.Root, "tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed ({script} is missing): run 'npm ci --prefix tools/azurite' (test.sh does).");
        }

        var server = new AzuriteServer(script, location);
        await server.RestartAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts Azurite again after <see cref="StopAsync"/>, on the same ports and location.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (process is { HasExited: false })
        {
            throw new InvalidOperationException("Azurite is already running.");
        }

        process?.Dispose();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in location is null ? ["--inMemoryPersistence"] : new[] { "--location", location })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in new[]
                 {
                     "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--blobPort", $"{blobPort}",
                     "--queueHost", "127.0.0.1", "--queuePort", $"{queuePort}",
                     "--tableHost", "127.0.0.1", "--tablePort", $"{tablePort}",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitForPortAsync(blobPort, cancellationToken).ConfigureAwait(false);
        await WaitForPortAsync(queuePort, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops Azurite the way an operator would (SIGTERM), so it saves its data to the location, and
    /// waits until it has exited; clients then get connection refused.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (process is not { HasExited: false })
        {
            return;
        }

        ProcessSignals.Send(process.Id, "TERM");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Azurite did not exit within {StopTimeout.TotalSeconds} s of SIGTERM.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        process?.Dispose();
    }

    private async Task WaitForPortAsync(int port, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"Azurite did not listen on port {port} within {StartTimeout.TotalSeconds} s.");
    }

    /// <summary>A loopback port nothing listens on (as of the call).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

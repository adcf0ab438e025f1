using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Mage.TestSupport;

/// <summary>
/// Starts a real Azurite (blob and queue, in memory) from tools/azurite on free ports and stops
/// it after the collection. test.sh installs it with <c>npm ci --prefix tools/azurite</c>.
/// One instance serves one xunit collection; <see cref="ConnectionString"/> is set once
/// <see cref="InitializeAsync"/> has finished and is safe to read from any thread after that.
/// </summary>
/// <remarks>
/// xunit 2 finds collection definitions only in the test assembly itself, so each test project
/// declares its own <c>[CollectionDefinition(AzuriteFixture.CollectionName)]</c> class with
/// <c>ICollectionFixture&lt;AzuriteFixture&gt;</c>.
/// </remarks>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The name of the xunit collection that shares one Azurite.</summary>
    public const string CollectionName = "Azurite";

    /// <summary>Azurite's well-known account key (of <c>devstoreaccount1</c>), for tests that sign their own SAS.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var root = RepoPaths.Root;
        var script = Path.Combine(root, "tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed ({script} is missing): run 'npm ci --prefix tools/azurite' (test.sh does).");
        }

        int blobPort = FreePort(), queuePort = FreePort(), tablePort = FreePort();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     script, "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
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
        await WaitForPortAsync(blobPort).ConfigureAwait(false);
        await WaitForPortAsync(queuePort).ConfigureAwait(false);
        ConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
                           $"AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
                           $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;";
    }

    public async Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        process?.Dispose();
    }

    private async Task WaitForPortAsync(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"Azurite did not listen on port {port} within 30 s.");
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

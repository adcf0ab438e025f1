using Microsoft.Playwright;

namespace Mage.Cli.Tests.Serve.Studio;

/// <summary>
/// One <c>mage serve --with-worker</c> (the tiny model, CPU) on the collection's Azurite and one headless
/// Debian chromium driven by Playwright, shared by the studio's browser tests. Started by the first
/// <see cref="OpenAsync"/> (a class fixture cannot take the Azurite collection fixture in xunit 2),
/// stopped when the class is done. A browser that cannot be launched fails the test that asked for it:
/// these tests never skip.
/// </summary>
public sealed class StudioServer : IAsyncLifetime
{
    /// <summary>The containers, queues and settings of this server (prefix <c>stu</c>).</summary>
    public const string Prefix = "stu";

    /// <summary>Debian's chromium; <c>MAGE_TEST_CHROMIUM</c> names another binary.</summary>
    private static readonly string Chromium = Environment.GetEnvironmentVariable("MAGE_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly SemaphoreSlim gate = new(1, 1);
    private MageProcess? serve;
    private IPlaywright? playwright;
    private IBrowser? browser;

    /// <summary>The server's root, <c>http://127.0.0.1:{port}</c>; set once the first <see cref="OpenAsync"/> has started the server.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The mage process, for failure messages.</summary>
    public override string ToString() => serve?.ToString() ?? "(mage serve not started)";

    /// <summary>
    /// A fresh page (its own browser context: no shared session storage) with the studio open, and the
    /// console errors it logs (a script error or a Content-Security-Policy violation) collected. The
    /// first call starts the server on <paramref name="connectionString"/>'s storage, and the browser.
    /// </summary>
    public async Task<StudioPage> OpenAsync(string connectionString)
    {
        await StartAsync(connectionString);
        var context = await browser!.NewContextAsync(new() { ViewportSize = new() { Width = 1200, Height = 1000 } });
        var page = await context.NewPageAsync();
        var studio = new StudioPage(context, page);
        await page.GotoAsync(BaseAddress.ToString());
        return studio;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }

        playwright?.Dispose();
        if (serve is not null)
        {
            serve.Signal("TERM");
            await serve.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await serve.DisposeAsync();
        }

        gate.Dispose();
    }

    /// <summary>Starts the server and the browser the first time; later calls return at once.</summary>
    private async Task StartAsync(string connectionString)
    {
        await gate.WaitAsync();
        try
        {
            // Each part once: after a failed browser launch, the next test tries the launch again (and fails the same way).
            if (serve is null)
            {
                BaseAddress = new Uri($"http://127.0.0.1:{AzuriteFixture.FreePort()}");
                serve = MageProcess.Start(StorageNames.Environment(Prefix), "serve", "--with-worker", "--connection", connectionString, "--urls", BaseAddress.ToString().TrimEnd('/'), "--model", Cli.TinyPackage, "--device", "cpu");
                await serve.WaitForErrorAsync("Worker started", StartTimeout);
                Assert.Contains($"mage serve: the studio is at {BaseAddress}", serve.Error);
            }

            if (browser is not null)
            {
                return;
            }

            Assert.True(File.Exists(Chromium), $"{Chromium} is missing: the browser tests need Debian's chromium (test.sh installs it with apt; MAGE_TEST_CHROMIUM names another).");
            playwright ??= await Playwright.CreateAsync();
            browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        }
        finally
        {
            gate.Release();
        }
    }
}

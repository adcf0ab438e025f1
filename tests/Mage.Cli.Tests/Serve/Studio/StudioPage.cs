using Microsoft.Playwright;

namespace Mage.Cli.Tests.Serve.Studio;

/// <summary>
/// One open studio page and what its console reported: script errors and Content-Security-Policy
/// violations, not the browser's own line for each non-2xx answer (the tests provoke those). Disposing
/// closes the page's browser context.
/// </summary>
public sealed class StudioPage : IAsyncDisposable
{
    private readonly IBrowserContext context;
    private readonly List<string> errors = [];

    internal StudioPage(IBrowserContext context, IPage page)
    {
        this.context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                Record(message.Text);
            }
        };
        page.PageError += (_, error) => Record(error);
    }

    public IPage Page { get; }

    /// <summary>The console errors so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (errors)
            {
                return [.. errors];
            }
        }
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();

    private void Record(string text)
    {
        lock (errors)
        {
            errors.Add(text);
        }
    }
}

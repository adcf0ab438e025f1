using System.CommandLine;

namespace Mage.Cli.Commands;

/// <summary>
/// <c>--connection</c> and <c>--account-url</c>: which storage account the job, worker, blob and queue commands
/// talk to. Option instances are shared by those commands.
/// </summary>
internal sealed class StorageOptions
{
    public Option<string?> Connection { get; } = new("--connection")
    {
        Description = "A storage connection string (Azurite: UseDevelopmentStorage=true or the full dev string), or an account's blob URL (https://ACCOUNT.blob.core.windows.net) to sign in with DefaultAzureCredential.",
        HelpName = "STRING|URL",
    };

    public Option<string?> AccountUrl { get; } = new("--account-url")
    {
        Description = "Azure: the account's blob URL, https://ACCOUNT.blob.core.windows.net; the queue URL is derived. Signs in with DefaultAzureCredential (az login, managed identity, environment).",
        HelpName = "URL",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Connection);
        command.Options.Add(AccountUrl);
    }

    /// <summary>The <c>MageStorage</c> settings (the Functions app's connection contract) for what was given.</summary>
    /// <exception cref="UsageException">Neither or both options, or a URL whose queue endpoint cannot be derived.</exception>
    public Dictionary<string, string?> Resolve(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var connection = parse.GetValue(Connection);
        var accountUrl = parse.GetValue(AccountUrl);
        if (string.IsNullOrWhiteSpace(connection) == string.IsNullOrWhiteSpace(accountUrl))
        {
            throw new UsageException("Give exactly one of --connection (a connection string or blob URL) and --account-url.");
        }

        var value = (connection ?? accountUrl)!.Trim();
        if (!value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (accountUrl is not null)
            {
                throw new UsageException($"--account-url '{value}' is not a URL; use https://ACCOUNT.blob.core.windows.net.");
            }

            return new Dictionary<string, string?> { ["MageStorage"] = value };
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var blobUri) || !blobUri.Host.Contains(".blob.", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"'{value}' is not an account blob URL such as https://ACCOUNT.blob.core.windows.net (the queue URL is derived from it). For Azurite use a connection string.");
        }

        var queueUri = new UriBuilder(blobUri) { Host = blobUri.Host.Replace(".blob.", ".queue.", StringComparison.OrdinalIgnoreCase) }.Uri;
        return new Dictionary<string, string?>
        {
            ["MageStorage:blobServiceUri"] = blobUri.GetLeftPart(UriPartial.Authority),
            ["MageStorage:queueServiceUri"] = queueUri.GetLeftPart(UriPartial.Authority),
        };
    }
}

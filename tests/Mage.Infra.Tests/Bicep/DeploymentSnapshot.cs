using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// What a deployment of infra/bicep/main.bicep with given parameters would create, as the Bicep
/// CLI predicts it (<c>bicep snapshot</c>: the ARM template engine run locally, loops, conditions,
/// variables and <c>fail()</c> evaluated; values known only in Azure, such as
/// <c>reference()</c>, stay expressions). Read-only after creation.
/// </summary>
internal sealed partial class DeploymentSnapshot
{
    /// <summary>The subscription and tenant the snapshot pretends to deploy to.</summary>
    public const string SubscriptionId = "00000000-0000-0000-0000-000000000000";

    private DeploymentSnapshot(IReadOnlyList<JsonObject> resources) => Resources = resources;

    /// <summary>Every predicted resource, in deployment order.</summary>
    public IReadOnlyList<JsonObject> Resources { get; }

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    public JsonObject Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected one {type}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>A setting (env value) of the one container app.</summary>
    public string AppSetting(string name) =>
        (string)Single("Microsoft.App/containerApps")["properties"]!["template"]!["containers"]![0]!["env"]!.AsArray()
            .Single(e => (string)e!["name"]! == name)!["value"]!;

    /// <summary>The resource id an extension resource (role assignment, diagnostic setting) is attached to.</summary>
    public static string ExtensionScope(JsonObject resource)
    {
        var id = (string)resource["id"]!;
        var match = ExtensionScopePattern().Match(id);
        if (match.Success)
        {
            return match.Groups[1].Value;
        }

        var providers = id.LastIndexOf("/providers/", StringComparison.Ordinal);
        Assert.True(providers > 0, $"Not an extension resource id: {id}.");
        return id[..providers];
    }

    /// <summary>
    /// Runs <c>bicep snapshot</c> on main.bicep with <paramref name="parameters"/> (Bicep literals
    /// by name, e.g. <c>["outputContainers"] = "['results']"</c>); the CLI's result and, when it
    /// succeeded, the snapshot.
    /// </summary>
    public static async Task<(BicepResult Result, DeploymentSnapshot? Snapshot)> CreateAsync(
        IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken = default)
    {
        var dir = Directory.CreateTempSubdirectory("mage-bicep-snapshot-").FullName;
        try
        {
            // A .bicepparam file may name its template only by a relative path.
            var main = Path.GetRelativePath(dir, RepoPaths.Full("infra/bicep/main.bicep")).Replace(Path.DirectorySeparatorChar, '/');
            var lines = new List<string> { $"using '{main}'" };
            lines.AddRange(parameters.Select(p => $"param {p.Key} = {p.Value}"));
            var paramFile = Path.Combine(dir, "main.bicepparam");
            await File.WriteAllLinesAsync(paramFile, lines, cancellationToken).ConfigureAwait(false);

            var result = await BicepCli.RunAsync(
                ["snapshot", paramFile, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--tenant-id", SubscriptionId, "--location", "westus3"],
                cancellationToken).ConfigureAwait(false);
            var snapshotFile = Path.Combine(dir, "main.snapshot.json");
            if (result.ExitCode != 0 || !File.Exists(snapshotFile))
            {
                return (result, null);
            }

            var root = JsonNode.Parse(await File.ReadAllTextAsync(snapshotFile, cancellationToken).ConfigureAwait(false))!;
            return (result, new DeploymentSnapshot(root["predictedResources"]!.AsArray().OfType<JsonObject>().ToList()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"^\[extensionResourceId\('([^']+)'")]
    private static partial Regex ExtensionScopePattern();
}

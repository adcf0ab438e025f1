namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// One <see cref="DeploymentSnapshot"/> of main.bicep shared by the <see cref="SnapshotCollection"/>
/// classes, with every optional part switched on: the Mage image (so the Event Grid subscription
/// exists), a deploying user, authentication with a client id, and an extra source and output
/// container each.
/// </summary>
public sealed class SnapshotFixture : IAsyncLifetime
{
    public const string UserPrincipalId = "11111111-1111-1111-1111-111111111111";
    public const string AuthClientId = "22222222-2222-2222-2222-222222222222";

    internal static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["environmentName"] = "'snap'",
        ["location"] = "'westus3'",
        ["functionsImageName"] = "'crexample.azurecr.io/mage/functions:1'",
        ["principalId"] = $"'{UserPrincipalId}'",
        ["authClientId"] = $"'{AuthClientId}'",
        ["sourceContainers"] = "['uploads', 'inbox']",
        ["outputContainers"] = "['results', 'exports']",
    };

    internal DeploymentSnapshot Snapshot { get; private set; } = null!;

    /// <summary>A fresh snapshot with <see cref="Parameters"/> changed by <paramref name="overrides"/> (Bicep literals).</summary>
    internal static Task<(BicepResult Result, DeploymentSnapshot? Snapshot)> VariantAsync(params (string Name, string Value)[] overrides)
    {
        var parameters = new Dictionary<string, string>(Parameters, StringComparer.Ordinal);
        foreach (var (name, value) in overrides)
        {
            parameters[name] = value;
        }

        return DeploymentSnapshot.CreateAsync(parameters);
    }

    public async Task InitializeAsync()
    {
        var (result, snapshot) = await DeploymentSnapshot.CreateAsync(Parameters);
        Assert.True(snapshot is not null, result.ToString());
        Snapshot = snapshot;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Container Apps authentication in front of the API, on the predicted deployment: Entra ID
/// tokens or 401, except on the Event Grid webhook, which carries its own system key.
/// </summary>
[Collection(SnapshotCollection.Name)]
public sealed class AuthenticationTests(SnapshotFixture fixture)
{
    private DeploymentSnapshot Snapshot => fixture.Snapshot;

    private JsonNode Auth => Snapshot.Single("Microsoft.App/containerApps/authConfigs")["properties"]!;

    [Fact]
    public void Entra_id_guards_the_app_and_answers_401_without_a_token()
    {
        var config = Snapshot.Single("Microsoft.App/containerApps/authConfigs");
        Assert.Equal((string)Snapshot.Single("Microsoft.App/containerApps")["name"]! + "/current", (string)config["name"]!);
        Assert.True((bool)Auth["platform"]!["enabled"]!);
        Assert.Equal("Return401", (string)Auth["globalValidation"]!["unauthenticatedClientAction"]!);

        var entra = Auth["identityProviders"]!["azureActiveDirectory"]!;
        Assert.True((bool)entra["enabled"]!);
        Assert.Equal(SnapshotFixture.AuthClientId, (string)entra["registration"]!["clientId"]!);
        // environment() stays an expression in a snapshot; the tenant is the deployment's.
        var issuer = (string)entra["registration"]!["openIdIssuer"]!;
        Assert.Equal($"[format('{{0}}{{1}}/v2.0', environment().authentication.loginEndpoint, '{DeploymentSnapshot.SubscriptionId}')]", issuer);
        Assert.Equal(
            [$"api://{SnapshotFixture.AuthClientId}", SnapshotFixture.AuthClientId],
            entra["validation"]!["allowedAudiences"]!.AsArray().Select(a => (string)a!));
    }

    [Fact]
    public void Only_the_event_grid_webhook_path_is_left_unauthenticated()
    {
        var excluded = Assert.Single(Auth["globalValidation"]!["excludedPaths"]!.AsArray());
        Assert.Equal("/runtime/webhooks/blobs", (string)excluded!);

        // The subscription's endpoint is https://<fqdn><path>?functionName=...: the same path.
        var endpoint = (string)Snapshot.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions")["properties"]!["destination"]!["properties"]!["endpointUrl"]!;
        Assert.StartsWith("[format('https://{0}{1}?functionName=Host.Functions.{2}&code={3}', ", endpoint, StringComparison.Ordinal);
        Assert.Contains(".configuration.ingress.fqdn, '/runtime/webhooks/blobs', 'EmbedUpload', ", endpoint, StringComparison.Ordinal);
    }

    [Fact]
    public void App_trusts_the_client_principal_headers_because_authentication_is_on()
    {
        Assert.Equal("true", Snapshot.AppSetting("Mage__Api__TrustAuthHeaders"));
    }

    [Fact]
    public async Task Turning_authentication_off_turns_enforcement_and_header_trust_off()
    {
        var (result, snapshot) = await SnapshotFixture.VariantAsync(("enableAuthentication", "false"), ("authClientId", "''"));
        Assert.True(snapshot is not null, result.ToString());
        Assert.Equal("false", snapshot.AppSetting("Mage__Api__TrustAuthHeaders"));
        var auth = snapshot.Single("Microsoft.App/containerApps/authConfigs")["properties"]!;
        Assert.False((bool)auth["platform"]!["enabled"]!);
        Assert.False((bool)auth["identityProviders"]!["azureActiveDirectory"]!["enabled"]!);
    }

    [Fact]
    public async Task Authentication_without_a_client_id_fails_the_deployment()
    {
        var (result, snapshot) = await SnapshotFixture.VariantAsync(("authClientId", "''"));
        Assert.Null(snapshot);
        Assert.Contains("enableAuthentication is true but authClientId is empty", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }
}

namespace Mage.Infra.Tests.Bicep;

/// <summary>Every service that logs sends its logs to the one Log Analytics workspace (predicted deployment).</summary>
[Collection(SnapshotCollection.Name)]
public sealed class DiagnosticSettingsTests(SnapshotFixture fixture)
{
    private DeploymentSnapshot Snapshot => fixture.Snapshot;

    [Fact]
    public void Storage_services_service_bus_event_grid_and_the_environment_log_to_the_workspace()
    {
        var settings = Snapshot.OfType("Microsoft.Insights/diagnosticSettings").ToList();
        var scopes = settings.Select(DeploymentSnapshot.ExtensionScope).ToList();
        var expected = Snapshot.OfType("Microsoft.Storage/storageAccounts")
            .SelectMany(a => new[] { (string)a["id"]! + "/blobServices/default", (string)a["id"]! + "/queueServices/default" })
            .Concat(new[]
            {
                "Microsoft.ServiceBus/namespaces", "Microsoft.EventGrid/systemTopics", "Microsoft.App/managedEnvironments",
            }.Select(type => (string)Snapshot.Single(type)["id"]!))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(7, expected.Count);
        Assert.Equal(expected, scopes.Order(StringComparer.Ordinal));

        var workspace = (string)Snapshot.Single("Microsoft.OperationalInsights/workspaces")["id"]!;
        Assert.All(settings, s =>
        {
            Assert.Equal(workspace, (string)s["properties"]!["workspaceId"]!);
            var logs = Assert.Single(s["properties"]!["logs"]!.AsArray());
            Assert.Equal("allLogs", (string)logs!["categoryGroup"]!);
            Assert.True((bool)logs["enabled"]!);
        });
    }
}

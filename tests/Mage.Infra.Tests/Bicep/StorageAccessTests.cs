using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Who may touch which storage, on the predicted deployment (<see cref="SnapshotFixture"/>): the
/// Functions host's own account, and the data account where every role is scoped to one
/// container or queue.
/// </summary>
[Collection(SnapshotCollection.Name)]
public sealed class StorageAccessTests(SnapshotFixture fixture)
{
    private const string BlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";

    private DeploymentSnapshot Snapshot => fixture.Snapshot;

    private List<string> Accounts => Snapshot.OfType("Microsoft.Storage/storageAccounts").Select(a => (string)a["id"]!).ToList();

    /// <summary>The account whose endpoints the app's AzureWebJobsStorage settings name.</summary>
    private string HostAccount => Accounts.Single(id => Snapshot.AppSetting("AzureWebJobsStorage__blobServiceUri").Contains($"'{id}'", StringComparison.Ordinal));

    /// <summary>The account whose endpoints the app's MageStorage settings name.</summary>
    private string DataAccount => Accounts.Single(id => Snapshot.AppSetting("MageStorage__blobServiceUri").Contains($"'{id}'", StringComparison.Ordinal));

    [Fact]
    public void Host_storage_is_an_account_of_its_own_apart_from_the_data_account()
    {
        Assert.Equal(2, Accounts.Count);
        Assert.NotEqual(HostAccount, DataAccount);
        foreach (var service in new[] { "queue", "table" })
        {
            Assert.Contains($"'{HostAccount}'", Snapshot.AppSetting($"AzureWebJobsStorage__{service}ServiceUri"), StringComparison.Ordinal);
        }

        Assert.Contains($"'{DataAccount}'", Snapshot.AppSetting("MageStorage__queueServiceUri"), StringComparison.Ordinal);
        Assert.All(Snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => Assert.StartsWith(DataAccount + "/", (string)c["id"]!, StringComparison.Ordinal));
        Assert.All(Snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues"), q => Assert.StartsWith(DataAccount + "/", (string)q["id"]!, StringComparison.Ordinal));
        Assert.Equal(DataAccount, (string)Snapshot.Single("Microsoft.EventGrid/systemTopics")["properties"]!["source"]!);
    }

    [Fact]
    public void No_role_is_granted_on_the_data_account_only_on_its_containers_and_queues_or_the_host_account()
    {
        var storageRoles = Snapshot.OfType("Microsoft.Authorization/roleAssignments")
            .Select(DeploymentSnapshot.ExtensionScope)
            .Where(scope => scope.Contains("/providers/Microsoft.Storage/", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(storageRoles);
        foreach (var scope in storageRoles)
        {
            var onContainer = scope.StartsWith(DataAccount + "/blobServices/default/containers/", StringComparison.Ordinal);
            var onQueue = scope.StartsWith(DataAccount + "/queueServices/default/queues/", StringComparison.Ordinal);
            Assert.True(onContainer || onQueue || scope == HostAccount, $"Role assignment at {scope}: storage roles go on a data container, a data queue or the host account.");
        }
    }

    [Fact]
    public void App_reads_uploads_models_and_the_source_containers_and_writes_results_jobs_and_the_output_containers()
    {
        var roles = RolesOfApp("/blobServices/default/containers/");
        Assert.Equal(
            new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                ["uploads"] = [BlobDataReader],
                ["inbox"] = [BlobDataReader],
                ["models"] = [BlobDataReader],
                ["results"] = [BlobDataContributor],
                ["exports"] = [BlobDataContributor],
                ["jobs"] = [BlobDataContributor],
            }.OrderBy(p => p.Key, StringComparer.Ordinal),
            roles.OrderBy(p => p.Key, StringComparer.Ordinal));

        var created = Snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").ToList();
        Assert.Equal(roles.Keys.Order(StringComparer.Ordinal), created.Select(c => ((string)c["name"]!).Split('/')[^1]).Order(StringComparer.Ordinal));
        Assert.All(created, c => Assert.Equal("None", (string)c["properties"]!["publicAccess"]!));
    }

    [Fact]
    public void Every_data_queue_and_its_poison_twin_exist_with_queue_data_contributor_for_the_app_on_each()
    {
        var contract = (JsonObject)JsonNode.Parse(File.ReadAllText(RepoPaths.Full("infra/bicep/app-settings.json")))!;
        var expected = contract["queues"]!.AsArray().Select(q => (string)q!).SelectMany(q => new[] { q, q + "-poison" }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(10, expected.Count);

        var created = Snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(q => ((string)q["name"]!).Split('/')[^1]);
        Assert.Equal(expected, created.Order(StringComparer.Ordinal));
        var roles = RolesOfApp("/queueServices/default/queues/");
        Assert.Equal(expected, roles.Keys.Order(StringComparer.Ordinal));
        Assert.All(roles.Values, r => Assert.Equal([QueueDataContributor], r));
    }

    [Fact]
    public void Host_account_gives_the_app_what_the_functions_host_needs_there()
    {
        var onHost = Snapshot.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => DeploymentSnapshot.ExtensionScope(a) == HostAccount)
            .ToList();
        Assert.All(onHost, a => Assert.True(IsApp(a), "Only the app identity holds roles on the host account."));
        Assert.Equal(
            new[] { BlobDataOwner, QueueDataContributor, TableDataContributor }.Order(StringComparer.Ordinal),
            onHost.Select(RoleOf).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Deploying_user_gets_contributor_on_each_container_and_queue_and_nothing_on_an_account()
    {
        var user = Snapshot.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => (string)a["properties"]!["principalId"]! == SnapshotFixture.UserPrincipalId)
            .Where(a => DeploymentSnapshot.ExtensionScope(a).Contains("/providers/Microsoft.Storage/", StringComparison.Ordinal))
            .ToList();
        var containers = Snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").Select(c => (string)c["id"]!).ToList();
        var queues = Snapshot.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(q => (string)q["id"]!).ToList();
        Assert.Equal(containers.Count + queues.Count, user.Count);
        Assert.All(user, a =>
        {
            var scope = DeploymentSnapshot.ExtensionScope(a);
            Assert.Equal(containers.Contains(scope) ? BlobDataContributor : QueueDataContributor, RoleOf(a));
            Assert.True(containers.Contains(scope) || queues.Contains(scope), $"User role at {scope}.");
        });
    }

    [Fact]
    public void Data_account_keeps_blob_versions_and_soft_deleted_blobs_and_containers_for_a_week()
    {
        var blobService = Snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices")
            .Single(s => (string)s["id"]! == DataAccount + "/blobServices/default")["properties"]!;
        Assert.True((bool)blobService["isVersioningEnabled"]!);
        foreach (var policy in new[] { "deleteRetentionPolicy", "containerDeleteRetentionPolicy" })
        {
            Assert.True((bool)blobService[policy]!["enabled"]!, policy);
            Assert.Equal(7, (int)blobService[policy]!["days"]!);
        }
    }

    [Fact]
    public void App_settings_allow_the_source_and_output_containers_and_leave_creating_storage_to_the_deployment()
    {
        Assert.Equal("uploads,inbox", Snapshot.AppSetting("Mage__Storage__SourceContainers"));
        Assert.Equal("results,exports", Snapshot.AppSetting("Mage__Storage__OutputContainers"));
        Assert.Equal("false", Snapshot.AppSetting("Mage__Storage__CreateMissing"));
    }

    [Fact]
    public async Task Naming_a_service_container_as_source_or_output_fails_the_deployment_naming_each_one()
    {
        // One snapshot run for all three kinds (a run takes seconds): jobs, models, the host's prefix.
        var (result, snapshot) = await SnapshotFixture.VariantAsync(
            ("sourceContainers", "['uploads', 'models']"),
            ("outputContainers", "['results', 'jobs', 'azure-webjobs-hosts']"));
        Assert.Null(snapshot);
        Assert.NotEqual(0, result.ExitCode);
        var output = result.StandardOutput + result.StandardError;
        Assert.Contains(
            "sourceContainers and outputContainers may not name the service's own containers (jobs, models, azure-webjobs-*): remove models, jobs, azure-webjobs-hosts",
            output,
            StringComparison.Ordinal);
    }

    /// <summary>The app identity's roles on data resources under <paramref name="segment"/>, by resource name.</summary>
    private Dictionary<string, string[]> RolesOfApp(string segment) =>
        Snapshot.OfType("Microsoft.Authorization/roleAssignments")
            .Where(IsApp)
            .Select(a => (Scope: DeploymentSnapshot.ExtensionScope(a), Role: RoleOf(a)))
            .Where(a => a.Scope.StartsWith(DataAccount + segment, StringComparison.Ordinal))
            .GroupBy(a => a.Scope[(DataAccount + segment).Length..], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(a => a.Role).Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);

    private static bool IsApp(JsonObject assignment) =>
        ((string)assignment["properties"]!["principalId"]!).Contains("Microsoft.ManagedIdentity/userAssignedIdentities/", StringComparison.Ordinal);

    private static string RoleOf(JsonObject assignment) =>
        ((string)assignment["properties"]!["roleDefinitionId"]!).Split('/')[^1];
}

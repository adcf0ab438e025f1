using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Where the Functions app runs, on the predicted deployment: the default serverless GPU profile
/// (<see cref="SnapshotFixture"/>), or CPU replicas on the Consumption profile
/// (<c>computeProfile = 'cpu'</c>), which must not ask for any GPU.
/// </summary>
[Collection(SnapshotCollection.Name)]
public sealed class ComputeProfileTests(SnapshotFixture fixture)
{
    [Fact]
    public void The_default_runs_on_the_t4_profile_with_cuda_and_the_whole_node()
    {
        var snapshot = fixture.Snapshot;

        Assert.Equal(["Consumption", "Consumption-GPU-NC8as-T4"], ProfileTypes(snapshot));
        Assert.Equal("cuda", snapshot.AppSetting("Mage__Model__Device"));
        Assert.Equal((8, "56Gi"), Resources(snapshot));
        Assert.Equal("gpu", (string)App(snapshot)["properties"]!["workloadProfileName"]!);
    }

    [Fact]
    public async Task A_cpu_deployment_has_no_gpu_profile_and_runs_cpu_replicas_that_scale_to_zero()
    {
        var (result, snapshot) = await SnapshotFixture.VariantAsync(("computeProfile", "'cpu'"), ("cpuReplicaCores", "2"));
        Assert.True(snapshot is not null, result.ToString());

        Assert.Equal(["Consumption"], ProfileTypes(snapshot));
        Assert.Equal("cpu", snapshot.AppSetting("Mage__Model__Device"));
        Assert.Equal((2, "4Gi"), Resources(snapshot));
        Assert.Equal("Consumption", (string)App(snapshot)["properties"]!["workloadProfileName"]!);
        Assert.Equal(0, (int)App(snapshot)["properties"]!["template"]!["scale"]!["minReplicas"]!);
    }

    [Fact]
    public async Task Replica_cores_other_than_2_or_4_are_refused()
    {
        var (result, snapshot) = await SnapshotFixture.VariantAsync(("computeProfile", "'cpu'"), ("cpuReplicaCores", "3"));

        Assert.Null(snapshot);
        Assert.Contains("Expected a value of type \"2 | 4\"", result.ToString(), StringComparison.Ordinal);
    }

    private static JsonObject App(DeploymentSnapshot snapshot) => snapshot.Single("Microsoft.App/containerApps");

    private static List<string> ProfileTypes(DeploymentSnapshot snapshot) =>
        snapshot.Single("Microsoft.App/managedEnvironments")["properties"]!["workloadProfiles"]!.AsArray()
            .Select(p => (string)p!["workloadProfileType"]!).ToList();

    private static (int Cpu, string Memory) Resources(DeploymentSnapshot snapshot)
    {
        var resources = App(snapshot)["properties"]!["template"]!["containers"]![0]!["resources"]!;
        return ((int)resources["cpu"]!, (string)resources["memory"]!);
    }
}

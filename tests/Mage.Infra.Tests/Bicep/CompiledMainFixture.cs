using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Compiles infra/bicep/main.bicep once per test class (bicep build into a temp folder) and
/// loads app-settings.json. Owns the temp folder and deletes it on dispose.
/// </summary>
public sealed class CompiledMainFixture : IAsyncLifetime
{
    private readonly string outDir = Directory.CreateTempSubdirectory("mage-bicep-").FullName;

    internal ArmTemplate Template { get; private set; } = null!;

    internal JsonObject Contract { get; private set; } = null!;

    internal IReadOnlyList<string> ContractSettings => Strings(Contract["settings"]);

    internal IReadOnlyList<string> ContractContainers => Strings(Contract["containers"]);

    internal IReadOnlyList<string> ContractQueues => Strings(Contract["queues"]);

    public async Task InitializeAsync()
    {
        var outFile = Path.Combine(outDir, "main.json");
        var result = await BicepCli.RunAsync(["build", RepoPaths.Full("infra/bicep/main.bicep"), "--outfile", outFile]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Template = new ArmTemplate((JsonObject)JsonNode.Parse(await File.ReadAllTextAsync(outFile))!);
        Contract = (JsonObject)JsonNode.Parse(
            await File.ReadAllTextAsync(RepoPaths.Full("infra/bicep/app-settings.json")),
            documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(outDir, recursive: true);
        return Task.CompletedTask;
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => n!.GetValue<string>()).ToList() : [];
}
